"""Application scenarios (积分应用场景) and enrollments (积分应用申请): versioned definitions
(``content.py``), the open period, blockers and the evaluation on the opening date
(``services/``); the demo's two scenarios (``demo.py``). See ``models.py``."""
