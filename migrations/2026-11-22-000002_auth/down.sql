DROP TABLE security_events;
DROP TABLE service_tokens;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE auth_challenges;
DROP TABLE user_roles;
DROP TABLE user_wallets;
DROP TABLE users;
