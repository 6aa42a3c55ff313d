"""Indexes for searching children (issue 13): characters anywhere in the name through a GIN
index over the name's characters and character pairs, and the record number case-insensitively.

pg_trgm is not used: a two-character name or query (王芳) holds no whole trigram, and under
LC_CTYPE=C pg_trgm takes no trigrams from Chinese characters at all. The grams below depend on
no locale. The indexes are built concurrently so that a large table stays writable.
"""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

FUNCTIONS = """
CREATE OR REPLACE FUNCTION child_name_grams(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY(
    SELECT DISTINCT substr(s.u, i, n)
    FROM (SELECT upper(name) AS u) AS s,
        generate_series(1, char_length(s.u)) AS i,
        generate_series(1, 2) AS n
    WHERE i + n - 1 <= char_length(s.u)
);
COMMENT ON FUNCTION child_name_grams(text) IS
    'The distinct characters and adjacent character pairs of a name, upper-cased: '
    'indexed for searching children by name.';

CREATE OR REPLACE FUNCTION child_name_query_grams(query text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY(
    SELECT DISTINCT substr(s.u, i, least(char_length(s.u), 2))
    FROM (SELECT upper(query) AS u) AS s,
        generate_series(1, greatest(char_length(s.u) - 1, 1)) AS i
);
COMMENT ON FUNCTION child_name_query_grams(text) IS
    'What child_name_grams of a name containing the query must contain: the query''s '
    'adjacent character pairs, or its one character.';
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS child_name_query_grams(text);
DROP FUNCTION IF EXISTS child_name_grams(text);
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0008_guardian_institution"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        AddIndexConcurrently(
            model_name="child",
            index=django.contrib.postgres.indexes.GinIndex(
                models.Func(
                    models.F("name"),
                    function="child_name_grams",
                    output_field=django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(), size=None
                    ),
                ),
                name="child_name_grams",
            ),
        ),
        AddIndexConcurrently(
            model_name="child",
            index=models.Index(
                django.db.models.functions.text.Upper("record_number"),
                name="child_record_number_upper",
            ),
        ),
    ]
