-- The quotes demo: its table, seeded with a few quotes.
--
-- The same statements run on SQLite and PostgreSQL. Neither SERIAL nor
-- AUTOINCREMENT exists on both, so new ids come from demo_quote_ids:
-- appserver.web.demo.store advances last_id with an UPDATE (which takes the
-- row lock on PostgreSQL, the write lock on SQLite) in the transaction that
-- inserts the quote, so concurrent writers never share an id and deleted
-- ids are never reused.

CREATE TABLE demo_quotes (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT ''
);

CREATE TABLE demo_quote_ids (
    last_id INTEGER NOT NULL
);

INSERT INTO demo_quotes (id, text, author) VALUES
    (1, 'An apple a day keeps the doctor away.', 'Proverb'),
    (2, 'Simple is better than complex.', 'Tim Peters'),
    (3, 'Premature optimization is the root of all evil.', 'Donald Knuth'),
    (4, 'Talk is cheap. Show me the code.', 'Linus Torvalds');

INSERT INTO demo_quote_ids (last_id) VALUES (4);
