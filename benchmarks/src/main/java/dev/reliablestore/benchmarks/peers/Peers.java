package dev.reliablestore.benchmarks.peers;

import java.nio.file.Path;

/** The durable peers opened outside JMH (SavePhases times them in the same rounds as the store). */
public final class Peers {

    private Peers() {
    }

    /** A durable write of a document by id: on disk when {@link #put} returns. */
    public interface DurableWriter {
        void put(String id, byte[] json) throws Exception;

        void close() throws Exception;
    }

    /** SQLite WAL, synchronous=FULL, in {@code dir}. */
    public static DurableWriter sqliteFull(Path dir) throws Exception {
        SqliteStore db = new SqliteStore(dir.resolve("full.db"), "FULL");
        return new DurableWriter() {
            @Override
            public void put(String id, byte[] json) throws Exception {
                db.upsert(id, json);
            }

            @Override
            public void close() throws Exception {
                db.close();
            }
        };
    }

    /** RocksDB with its WAL synced at every put, in {@code dir}. */
    public static DurableWriter rocksdbSync(Path dir) throws Exception {
        RocksStore db = new RocksStore(dir.resolve("rocksdb"));
        return new DurableWriter() {
            @Override
            public void put(String id, byte[] json) throws Exception {
                db.put(id, json);
            }

            @Override
            public void close() {
                db.close();
            }
        };
    }
}
