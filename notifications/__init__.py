"""Notifications: letters to customers through the saved account, queued in the database.

- enqueue.py: validation (codes: services.errors.SendNotificationErrorCode), the Message-ID, idempotency (``sendNotification``);
- failure_json.py: a classified failure as stored with the letter;
- letter.py: the notification as a well-formed letter;
- credentials.py: what an account logs in with;
- session.py: one reusable SMTP connection per account for a run of letters;
- policy.py: retry, fail or pause, and when to try again;
- queue.py: claim (lease; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), release, outcomes;
- pause.py: the paused queue of an account, and what resumes it;
- limits.py: providers' daily sending caps (data in mail/providers.json);
- stats.py: queue depth and the oldest due letter, for the metrics;
- worker.py: the delivery loop (``mailtab worker``, in-process with ``mailtab serve``).
"""
