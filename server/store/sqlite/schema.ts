/** The embedded store's tables. The instance document is the truth; the other tables index it. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS deployments (
  id TEXT PRIMARY KEY,
  deployed_at TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS process_versions (
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  deployed_at TEXT NOT NULL,
  xml TEXT NOT NULL,
  view_only INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key, version)
);
CREATE TABLE IF NOT EXISTS instances (
  id TEXT PRIMARY KEY,
  process_key TEXT NOT NULL,
  business_key TEXT,
  status TEXT NOT NULL,
  revision INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  next_timer_at TEXT,
  doc TEXT NOT NULL
);
DROP INDEX IF EXISTS instances_by_status;
DROP INDEX IF EXISTS instances_by_key;
CREATE INDEX IF NOT EXISTS instances_newest ON instances (started_at DESC, id);
CREATE INDEX IF NOT EXISTS instances_newest_by_status ON instances (status, started_at DESC, id);
CREATE INDEX IF NOT EXISTS instances_newest_by_key ON instances (process_key, started_at DESC, id);
CREATE INDEX IF NOT EXISTS instances_by_business_key ON instances (business_key);
CREATE INDEX IF NOT EXISTS instances_by_timer ON instances (next_timer_at) WHERE next_timer_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  assignee TEXT,
  created_at TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_by_instance ON tasks (instance_id);
CREATE INDEX IF NOT EXISTS tasks_by_assignee ON tasks (assignee, created_at);
CREATE INDEX IF NOT EXISTS tasks_oldest ON tasks (created_at, id);
CREATE TABLE IF NOT EXISTS task_candidates (
  task_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (kind, name, task_id)
);
CREATE INDEX IF NOT EXISTS task_candidates_by_task ON task_candidates (task_id);
CREATE TABLE IF NOT EXISTS work_owners (
  id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  available_at TEXT NOT NULL,
  lock_expires_at TEXT,
  incident INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_instance ON jobs (instance_id);
CREATE INDEX IF NOT EXISTS jobs_lockable ON jobs (topic, incident, created_at);
CREATE TABLE IF NOT EXISTS message_subscriptions (
  instance_id TEXT NOT NULL,
  name TEXT NOT NULL,
  business_key TEXT
);
CREATE INDEX IF NOT EXISTS message_subscriptions_by_name ON message_subscriptions (name, business_key);
CREATE INDEX IF NOT EXISTS message_subscriptions_by_instance ON message_subscriptions (instance_id);
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)
);
`;
