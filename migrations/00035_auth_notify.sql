-- +goose Up
-- Each instance keeps the sessions it has checked for a short while
-- (trading.SessionCache), so that an authenticated request does not always
-- take a round trip for its session. Whatever changes what SessionAccount
-- would answer notifies the channel ggzy_auth with the account's id, from
-- the database itself, whichever code path or SQL session made the change:
-- a session revoked or deleted, an account changed (disabled, its role,
-- password or name) or deleted, a bidder profile added, changed or removed;
-- a TRUNCATE of one of the tables notifies "*" (forget everything). Every
-- instance listens (its live hub's connection) and forgets. Notifications
-- are sent at commit. Not notified: changes made with the triggers off
-- (session_replication_role = replica, as pg_restore and logical
-- replication run, or ALTER TABLE … DISABLE TRIGGER); after such a change,
-- restart the instances or wait GGZY_SESSION_CACHE.
-- +goose StatementBegin
CREATE FUNCTION auth_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('ggzy_auth', '*');
    ELSIF TG_TABLE_NAME = 'accounts' THEN
        PERFORM pg_notify('ggzy_auth', OLD.id::text);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('ggzy_auth', NEW.account_id::text);
    ELSE
        PERFORM pg_notify('ggzy_auth', OLD.account_id::text);
        IF TG_OP = 'UPDATE' AND NEW.account_id IS DISTINCT FROM OLD.account_id THEN
            PERFORM pg_notify('ggzy_auth', NEW.account_id::text);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER auth_changed AFTER UPDATE OR DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION auth_changed();
CREATE TRIGGER auth_changed AFTER UPDATE OR DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION auth_changed();
CREATE TRIGGER auth_changed AFTER INSERT OR UPDATE OR DELETE ON bidders FOR EACH ROW EXECUTE FUNCTION auth_changed();
CREATE TRIGGER auth_truncated AFTER TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER auth_truncated AFTER TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER auth_truncated AFTER TRUNCATE ON bidders FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();

-- +goose Down
DROP TRIGGER auth_truncated ON bidders;
DROP TRIGGER auth_truncated ON sessions;
DROP TRIGGER auth_truncated ON accounts;
DROP TRIGGER auth_changed ON bidders;
DROP TRIGGER auth_changed ON sessions;
DROP TRIGGER auth_changed ON accounts;
DROP FUNCTION auth_changed();
