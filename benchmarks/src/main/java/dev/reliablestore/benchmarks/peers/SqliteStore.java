package dev.reliablestore.benchmarks.peers;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What a Java user would pick instead: SQLite (xerial sqlite-jdbc) in WAL mode, one table of JSON
 * documents by id. Writes go through one connection guarded by a lock, which is SQLite's own model
 * (one writer at a time) without its busy-wait back-off, i.e. SQLite at its best; each reader
 * thread has its own connection (WAL readers do not block).
 */
final class SqliteStore implements AutoCloseable {

    private final String url;
    private final Connection writer;
    private final PreparedStatement upsert;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ThreadLocal<Reader> readers;

    /**
     * @param file        the database file
     * @param synchronous {@code FULL} (fsync at every commit: durable) or {@code NORMAL} (WAL not
     *                    fsync'ed at commit: not durable at return, only at checkpoints)
     */
    SqliteStore(Path file, String synchronous) throws SQLException {
        if (!synchronous.equals("FULL") && !synchronous.equals("NORMAL")) {
            throw new IllegalArgumentException("synchronous = " + synchronous + "; expected FULL or NORMAL");
        }
        url = "jdbc:sqlite:" + file;
        writer = DriverManager.getConnection(url);
        try (Statement s = writer.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=" + synchronous);
            s.execute("CREATE TABLE IF NOT EXISTS entity (id TEXT PRIMARY KEY, version INTEGER NOT NULL, json BLOB NOT NULL)");
        }
        upsert = writer.prepareStatement("INSERT INTO entity (id, version, json) VALUES (?, 1, ?) "
                + "ON CONFLICT(id) DO UPDATE SET version = version + 1, json = excluded.json");
        readers = ThreadLocal.withInitial(this::newReader);
    }

    /** Creates or replaces the document; committed (autocommit) before it returns. */
    void upsert(String id, byte[] json) throws SQLException {
        writeLock.lock();
        try {
            upsert.setString(1, id);
            upsert.setBytes(2, json);
            upsert.executeUpdate();
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Preloads documents in one transaction (setup only: one fsync instead of one per document).
     *
     * @param json the document of {@code ids[i]} is {@code json.apply(i)}
     */
    void load(String[] ids, java.util.function.IntFunction<byte[]> json) throws SQLException {
        writeLock.lock();
        try {
            writer.setAutoCommit(false);
            try {
                for (int i = 0; i < ids.length; i++) {
                    upsert.setString(1, ids[i]);
                    upsert.setBytes(2, json.apply(i));
                    upsert.executeUpdate();
                }
                writer.commit();
            } finally {
                writer.setAutoCommit(true);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** The document's bytes, or null. */
    byte[] read(String id) throws SQLException {
        PreparedStatement q = readers.get().query;
        q.setString(1, id);
        try (ResultSet rs = q.executeQuery()) {
            return rs.next() ? rs.getBytes(1) : null;
        }
    }

    private Reader newReader() {
        try {
            Connection c = DriverManager.getConnection(url);
            return new Reader(c, c.prepareStatement("SELECT json FROM entity WHERE id = ?"));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open a SQLite reader on " + url, e);
        }
    }

    private record Reader(Connection connection, PreparedStatement query) {
    }

    @Override
    public void close() throws SQLException {
        upsert.close();
        writer.close();
        // reader connections of benchmark threads die with the forked JVM
    }
}
