"""The admin site, by topic: the site and what its pages share (site), regions, agencies and
institutions (organisations), memberships (memberships), accounts (users) and the pages a
set-password link opens (passwords). The model admins register themselves on import, from
`InstitutionsConfig.ready()`."""
