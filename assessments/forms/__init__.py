"""The assessments app's forms: `assessment` (taking or correcting a result), `builder` (an
instrument version) and `screening` (opening a session, one child's answers, a sheet)."""
