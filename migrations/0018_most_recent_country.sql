-- The EAR's deemed-export rule (15 CFR 734.13(b)) looks at a foreign person's most recent
-- country of citizenship or permanent residency. Providers attest nationalities without
-- acquisition dates, so a compliance operator records that country as a determination
-- (kind most_recent_country, provider "operator"), used by policies with
-- nationality_rule = "most_recent".
ALTER TABLE attestations DROP CONSTRAINT attestations_kind_check;
ALTER TABLE attestations ADD CONSTRAINT attestations_kind_check
    CHECK (kind IN ('nationalities', 'permanent_residency', 'us_person_basis',
                    'most_recent_country'));
