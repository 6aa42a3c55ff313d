"""Class and institution screenings.

`roster` reads the groups a user may screen, a session's roster and its progress; `entry` checks
one child's answers; `sheets` reads and checks an imported sheet and writes the template to fill
in; `summary` reads the results a counsellor acts on; `services` makes every change (opening and
closing a session, saving a result, an absence, a whole sheet).
"""
