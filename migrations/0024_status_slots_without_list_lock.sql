-- Every issuance inserted a slot referencing the one open status list, and the foreign
-- key made each insert lock that one row (FOR KEY SHARE): under concurrent issuance every
-- locker created a new multixact naming all the others, and all of them queued on one
-- heap page. Lists are never deleted (retired lists keep their row) and a slot's list id
-- comes from that table (tokens.status_slots), read in the issuing transaction, so the
-- constraint guarded nothing a slot could break.
ALTER TABLE token_statuses DROP CONSTRAINT IF EXISTS token_statuses_list_id_fkey;
