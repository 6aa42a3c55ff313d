"""The accounts the benchmark signs in as: made by `generate.py`, used by `run.py`.

They live in the fictional province 98 only (never in the demo's 99, never in production data).
Roles that must use two-factor authentication get a confirmed TOTP device with BENCH_TOTP_KEY,
so the benchmark signs in through the real login and verification pages.
"""

from __future__ import annotations

# A benchmark-only password and TOTP key (hex, 20 bytes): the generator refuses to run with
# production settings unless told to, and into a database whose province 98 already has children.
BENCH_PASSWORD = "bench-Only-Pass-2026"  # noqa: S105 (a benchmark-only account)
BENCH_TOTP_KEY = "3132333435363738393031323334353637383930"

# role in the benchmark → username
BENCH_USERS: dict[str, str] = {
    "director": "bench_director",  # child director (儿童主任) of the first village
    "township": "bench_township",  # child supervisor (儿童督导员) of the first township
    "county": "bench_county",  # civil affairs supervisor of the first county
    "city": "bench_city",  # civil affairs supervisor of the first city
    "province": "bench_province",  # civil affairs supervisor of the province
    "counsellor": "bench_counsellor",  # mental-health teacher of the first school
    "clinician": "bench_clinician",  # psychiatrist at the first county hospital
}

PROVINCE_CODE = "98"
