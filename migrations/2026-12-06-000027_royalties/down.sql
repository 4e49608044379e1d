DROP INDEX prop_fills_profit_idx;
DROP TABLE royalty_cursor;
DROP TABLE royalty_entries;
DROP TABLE royalty_bookings;
DROP FUNCTION check_royalty_balanced();
