"""Features built on the session API: batch fan-out, listen, tasks, the response cache,
tool schemas for model APIs and the skills extension. They never import the client facade."""
