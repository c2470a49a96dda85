-- Every issuance inserted a slot referencing the one open status list, and the foreign
-- key made each insert lock that one row (FOR KEY SHARE): under concurrent issuance every
-- locker created a new multixact naming all the others, and all of them queued on one
-- heap page, and a full list could not be closed (FOR UPDATE SKIP LOCKED) while issuance
-- went on. Lists are never deleted (retired lists keep their row) and a slot's list id is
-- one the allocator read from that table (tokens.status_slots), so the constraint guarded
-- no list a slot could name.
ALTER TABLE token_statuses DROP CONSTRAINT IF EXISTS token_statuses_list_id_fkey;
