"""Pages of referrals, by topic: the lists and inbox (lists), referring a child (create), the
life-cycle steps (steps), a referral's page and attachments (detail) and the override review
(review). Every object comes from the one fetch at the level its action needs; every write goes
through a service."""
