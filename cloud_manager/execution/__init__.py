"""The applier: one durable executor that runs any planner's actions against the cloud.

``executor`` claims a task and walks it through its steps (fence, plan, prepare, stages);
``fencing`` isolates a node, ``inventory`` reads the cloud model a planner needs,
``host_actions`` and ``instance_actions`` apply the typed actions of ``cloud_manager.model``,
``records`` keeps every step in the database so a restarted worker resumes, never repeats.
"""
