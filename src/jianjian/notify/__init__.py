"""Notifications that are never lost: the outbox, its worker, the sweeps and the channels.

- ``models.py``: the outbox (``Notification``), ``ResidentPreference`` (a resident's channels —
  issue 6's preferences page edits it, see its docstring), ``GroupRobot`` (a community's WeCom /
  DingTalk / Feishu robots and their purpose) and ``RobotSend`` (the rate-limit ledger).
- ``outbox.py``: every message is a row written inside the transaction of its cause, with a
  dedup key per cause; quiet hours set its first attempt.
- ``sweeps.py`` / ``schedule.py``: reminders, dead parcels and the committee's daily digest,
  selected through indexed ``next_*_at`` columns.
- ``worker.py``: claims due rows (SKIP LOCKED on PostgreSQL, conditional UPDATE on SQLite),
  delivers, backs off, marks permanent failures; at-least-once, duplicates bounded by the key.
- ``channels/``: log, email (SMTP), SMS (Alibaba Cloud, Tencent Cloud, or the log file) and the
  three group robots.

Why no task library (django-tasks + django-tasks-db): we looked, and it does not earn its
place here. The outbox table already *is* a durable queue written in the cause's transaction,
which is the one property we cannot give up (invariant 4); a task enqueued with
``transaction.on_commit`` is lost if the process dies between the commit and the enqueue, so a
sweep over the outbox would still be needed to find such rows, and we would run two queues and
two claim loops for one job. The library's worker would add a second table of task results, its
own polling loop and process to supervise, while the things we need from a worker — leases that
expire after a crash, per-robot rate limits, quiet hours, attempts that a rate-limit answer does
not spend — live in the outbox rows either way. The claim loop is ~40 lines with SKIP LOCKED
and is tested with real processes (SIGKILL mid-batch, two workers at once). If jianjian grows
background jobs that are *not* notifications (report exports, large imports), django-tasks is
the place for those.
"""
