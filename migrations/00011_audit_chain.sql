-- +goose Up
-- The chain of an object's audit records, computed in SQL exactly as
-- trading's auditChain computes it in Go: FNV-1a (32 bits) over the object
-- type, U+001F and the object id, modulo the 16 chains (trading.AuditChains).
-- A statement that creates an object and records it at once (a registration
-- written in one statement) knows the id only inside the statement, so it
-- needs the chain there. The tests compare the two on many ids.
-- +goose StatementBegin
CREATE FUNCTION audit_chain(p_object_type text, p_object_id text) RETURNS int
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    b bytea := convert_to(p_object_type || E'\x1f' || p_object_id, 'UTF8');
    h bigint := 2166136261;
BEGIN
    FOR i IN 0 .. length(b) - 1 LOOP
        h := ((h # get_byte(b, i)) * 16777619) & 4294967295;
    END LOOP;
    RETURN (h % 16)::int;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION audit_chain(text, text);
