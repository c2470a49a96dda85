-- Evidence that contradicts itself (a U.S.-citizen basis next to nationalities without the
-- United States; a permanent-resident basis next to residency in another country) is
-- recorded, so operators see it and why, but it never counts: the decision treats the
-- attestation as not made (reason evidence_inconsistent) until an operator reviews it.
ALTER TABLE attestations
    ADD COLUMN inconsistency text CHECK (length(inconsistency) BETWEEN 1 AND 300);
