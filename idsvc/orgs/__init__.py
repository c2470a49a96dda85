"""Organisations: vetting, domains, members and their enrolment.

One sub-package per job, each with its rooms (``api.py`` routes, ``service.py`` use cases
and SQL, ``errors.py``):

- ``vetting``: requesting an organisation, the operators' vetting of it (status,
  programs) and the screening of organisations against restricted-party lists;
- ``members``: the member list, member state and role changes, the eligibility report and
  access reviews (admins re-certify their members);
- ``domains``: claiming domains, proving them by DNS TXT record, and auto-join;
- ``invitations``: inviting by e-mail and accepting;
- ``enrolment``: importing members from a CSV file (dry run and real).

What every part shares stays here: ``records`` (the rows), ``access`` and ``guards`` (who
administers an organisation), ``state_rules`` (what an organisation's state allows),
``disclosure`` (what admins may see of a member), ``claims`` (claiming e-mail memberships at
sign-in), and ``errors`` (the errors shared by the parts). ``admin_guard`` is the older guard
function, kept while ``idsvc.scim`` still calls it.
"""
