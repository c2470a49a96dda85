"""The web console for operators and org admins: server-rendered pages that work without
JavaScript, over the same use cases (and the same authorisation) as the JSON API."""
