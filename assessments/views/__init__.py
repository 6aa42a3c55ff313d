"""The assessments app's pages: `assessments` (taking, reading and correcting a result),
`alerts`, `builder` (instruments), `screening` (sessions) and `screening_entry` (their results)."""
