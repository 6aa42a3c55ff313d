"""What followups add to the child's file: `visits` (timeline entries) and `activities` (a section
and timeline entries), each registered from `FollowupsConfig.ready()`."""
