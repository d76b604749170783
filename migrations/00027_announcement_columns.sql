-- +goose Up
-- One English word per Chinese term (issue 12): 公告 is "announcement"
-- everywhere, so the columns, indexes and constraints that pointed at an
-- announcement under the name "notice" are renamed. Only names change; no
-- row is touched. 通知书 (letters, kind 'award_notice' / 'result_notice')
-- and 缴款通知书 are other terms and keep their names.
ALTER TABLE lot_results RENAME COLUMN candidates_notice_id TO candidates_announcement_id;
ALTER TABLE lot_results RENAME COLUMN result_notice_id TO result_announcement_id;
ALTER TABLE lot_results RENAME COLUMN failure_notice_id TO failure_announcement_id;
ALTER TABLE lot_results RENAME COLUMN contract_notice_id TO contract_announcement_id;
ALTER INDEX lot_results_candidates_notice_key RENAME TO lot_results_candidates_announcement_key;
ALTER INDEX lot_results_result_notice_key RENAME TO lot_results_result_announcement_key;
ALTER TABLE lot_results RENAME CONSTRAINT lot_results_candidates_notice_id_fkey TO lot_results_candidates_announcement_id_fkey;
ALTER TABLE lot_results RENAME CONSTRAINT lot_results_result_notice_id_fkey TO lot_results_result_announcement_id_fkey;
ALTER TABLE lot_results RENAME CONSTRAINT lot_results_failure_notice_id_fkey TO lot_results_failure_announcement_id_fkey;
ALTER TABLE lot_results RENAME CONSTRAINT lot_results_contract_notice_id_fkey TO lot_results_contract_announcement_id_fkey;

ALTER TABLE openings RENAME COLUMN notice_id TO announcement_id;
ALTER TABLE openings RENAME CONSTRAINT openings_notice_id_key TO openings_announcement_id_key;
ALTER TABLE openings RENAME CONSTRAINT openings_notice_id_fkey TO openings_announcement_id_fkey;

-- +goose Down
ALTER TABLE openings RENAME CONSTRAINT openings_announcement_id_fkey TO openings_notice_id_fkey;
ALTER TABLE openings RENAME CONSTRAINT openings_announcement_id_key TO openings_notice_id_key;
ALTER TABLE openings RENAME COLUMN announcement_id TO notice_id;

ALTER TABLE lot_results RENAME CONSTRAINT lot_results_contract_announcement_id_fkey TO lot_results_contract_notice_id_fkey;
ALTER TABLE lot_results RENAME CONSTRAINT lot_results_failure_announcement_id_fkey TO lot_results_failure_notice_id_fkey;
ALTER TABLE lot_results RENAME CONSTRAINT lot_results_result_announcement_id_fkey TO lot_results_result_notice_id_fkey;
ALTER TABLE lot_results RENAME CONSTRAINT lot_results_candidates_announcement_id_fkey TO lot_results_candidates_notice_id_fkey;
ALTER INDEX lot_results_result_announcement_key RENAME TO lot_results_result_notice_key;
ALTER INDEX lot_results_candidates_announcement_key RENAME TO lot_results_candidates_notice_key;
ALTER TABLE lot_results RENAME COLUMN contract_announcement_id TO contract_notice_id;
ALTER TABLE lot_results RENAME COLUMN failure_announcement_id TO failure_notice_id;
ALTER TABLE lot_results RENAME COLUMN result_announcement_id TO result_notice_id;
ALTER TABLE lot_results RENAME COLUMN candidates_announcement_id TO candidates_notice_id;
