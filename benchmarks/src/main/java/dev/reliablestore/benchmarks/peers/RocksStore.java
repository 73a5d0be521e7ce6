package dev.reliablestore.benchmarks.peers;

import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The peer the benchmark issue names for durable single-key writes: RocksDB (rocksdbjni) with its
 * write-ahead log on and {@code WriteOptions.setSync(true)}, so a put returns after the WAL is
 * synced. One entity per key (the id), the JSON bytes as the value; RocksDB is thread-safe and
 * groups concurrent synced writers itself.
 */
final class RocksStore implements AutoCloseable {

    static {
        RocksDB.loadLibrary();
    }

    private final Options options;
    private final RocksDB db;
    private final WriteOptions sync;
    private final WriteOptions unsynced;

    RocksStore(Path dir) throws RocksDBException {
        options = new Options().setCreateIfMissing(true);
        db = RocksDB.open(options, dir.toString());
        sync = new WriteOptions().setSync(true);
        unsynced = new WriteOptions();
    }

    /** Creates or replaces the document; on disk (WAL synced) before it returns. */
    void put(String id, byte[] json) throws RocksDBException {
        db.put(sync, id.getBytes(StandardCharsets.UTF_8), json);
    }

    /** Preloads a document without a sync (setup only). */
    void load(String id, byte[] json) throws RocksDBException {
        db.put(unsynced, id.getBytes(StandardCharsets.UTF_8), json);
    }

    @Override
    public void close() {
        sync.close();
        unsynced.close();
        db.close();
        options.close();
    }
}
