-- Addresses are compared by one key, NFKC then case-folded (idsvc.accounts.addresses).
-- memberships.email already holds an enrolment's key; users.email_key holds the key of an
-- account's own address, so "is this address already a member" also finds the members
-- enrolled by account. The service writes it: no SQL function case-folds, and lower()
-- follows the database's locale. NULL when the account has no address, or one that idsvc
-- now refuses (an invisible or compatibility character): such an address matches nothing.
ALTER TABLE users ADD COLUMN email_key text CHECK (length(email_key) <= 320);

-- Existing accounts: an ASCII address's key is its ASCII lower case, spelled out with
-- translate() so that no locale changes it (a Turkish one lowers "I" to a dotless "ı").
-- Other addresses keep no key: theirs needs Unicode case folding, and earlier code
-- accepted invisible and compatibility characters that must not get one.
UPDATE users
SET email_key = translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
WHERE email ~ '^[!-~]+$';
