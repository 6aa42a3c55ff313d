"""Forms of referrals, by topic: writing one (create), consent (consent), attachments
(attachments) and the life-cycle steps (steps)."""
