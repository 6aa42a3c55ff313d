"""Writes of referrals, by topic: the life cycle table and what every step shares
(transitions), writing and sending (sending), the steps after sending (lifecycle), consent and
its override review (consent), and the clinic's access that follows a referral (grants)."""
