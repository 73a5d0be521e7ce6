package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.spi.ChangeDispatcher;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The change log as a replayable history: its garbage collection, the horizon that collection
 * leaves behind, and the reader of a replaying watch.
 *
 * <p><b>Horizon.</b> Before the primary deletes a bucket's entries it raises {@code feed-horizon}
 * to at least the largest sequence among them (a conditional {@code setData}: a concurrent primary
 * cannot lower it). So every batch with a larger sequence is still in the log, and a reader that
 * listed a bucket and then reads a horizon no larger than what it has delivered knows the listing
 * missed nothing it needs: a deletion that dropped such an entry raised the horizon before it, and
 * the session's later read sees that.
 *
 * <p><b>Reading in order.</b> A bucket is named after its writer's clock, so with clocks apart an
 * entry can land in an older bucket than an entry committed before it. Buckets are therefore read
 * in the order they were created (their {@code czxid}): every entry is created after its bucket,
 * so an entry whose {@code czxid} is below the next bucket's cannot be followed by an unread
 * earlier one. The reader keeps only an index (path, czxid, size) of the entries not yet
 * delivered and reads their data in bounded chunks.
 */
final class FeedHistory {

    private static final Logger LOG = LoggerFactory.getLogger(FeedHistory.class);
    static final long BUCKET_MILLIS = 10_000;
    private static final String BUCKET_PREFIX = "b-";
    /** Entries whose data one chunk reads at most, and the bytes after which a chunk ends. */
    private static final int CHUNK_ENTRIES = 512;
    private static final long CHUNK_BYTES = 4L << 20;
    /** Stat requests in flight at once while indexing a bucket. */
    private static final int STAT_WINDOW = 1_000;
    private static final int DELETE_BATCH = 500;

    private final ZnodeLayout layout;
    private final Supplier<ZooKeeper> handle;
    private final List<ACL> acl;
    private final long callTimeoutMs;
    private final String retention;
    /** The largest horizon seen: replayableAfter() never goes back, even when a lagging server answers. */
    private final AtomicLong horizonSeen = new AtomicLong();
    /** For tests: runs after a reader listed the buckets and before it reads them. */
    volatile Runnable afterBucketListing = () -> { };

    FeedHistory(ZnodeLayout layout, Supplier<ZooKeeper> handle, List<ACL> acl, long callTimeoutMs, String retention) {
        this.layout = layout;
        this.handle = handle;
        this.acl = acl;
        this.callTimeoutMs = callTimeoutMs;
        this.retention = retention;
    }

    /** What {@code FeedHistoryUnavailableException} and resync reasons say of the retention. */
    String retention() {
        return retention;
    }

    // ---- the horizon ---------------------------------------------------------------------------

    /** The horizon as this session's server shows it, never below one seen before. */
    CompletableFuture<Long> readHorizon(ZooKeeper zk) {
        return ZkCalls.getData(zk, layout.feedHorizon)
                .thenApply(d -> horizonSeen.accumulateAndGet(d == null ? 0 : ZnodeLayout.decodeHorizon(layout.feedHorizon, d.data()), Math::max));
    }

    /** Raises the horizon to {@code candidate} unless it is already there; never lowers it. */
    void raiseHorizon(ZooKeeper zk, long candidate) throws KeeperException, InterruptedException {
        while (true) {
            Stat stat = new Stat();
            byte[] data;
            try {
                data = zk.getData(layout.feedHorizon, false, stat);
            } catch (KeeperException.NoNodeException missing) {
                try {
                    zk.create(layout.feedHorizon, ZnodeLayout.encodeHorizon(candidate), acl, CreateMode.PERSISTENT);
                    return;
                } catch (KeeperException.NodeExistsException raced) {
                    continue;
                }
            }
            if (ZnodeLayout.decodeHorizon(layout.feedHorizon, data) >= candidate) {
                return;
            }
            try {
                zk.setData(layout.feedHorizon, ZnodeLayout.encodeHorizon(candidate), stat.getVersion());
                return;
            } catch (KeeperException.BadVersionException raced) {
                // another primary raised it meanwhile: compare again
            }
        }
    }

    // ---- garbage collection ----------------------------------------------------------------------

    /**
     * Deletes the buckets older than {@code retentionMs} at {@code nowMillis} (the bucket before the
     * cutoff's is kept too: it may still receive entries). For each bucket: list it, raise the horizon
     * over what was listed, delete what was listed, then the bucket, which fails if an entry arrived
     * since (a writer whose clock is behind): that one is collected in a later round, horizon first.
     */
    void collect(ZooKeeper zk, long nowMillis, long retentionMs) throws KeeperException, InterruptedException {
        long cutoff = (nowMillis - retentionMs) / BUCKET_MILLIS;
        for (String bucket : zk.getChildren(layout.log, false)) {
            long index = bucketIndex(bucket);
            if (index < 0 || index + 1 >= cutoff) {
                continue;
            }
            String bp = layout.log + "/" + bucket;
            List<String> entries;
            try {
                entries = zk.getChildren(bp, false);
            } catch (KeeperException.NoNodeException gone) {
                continue; // collected by another primary
            }
            if (!entries.isEmpty()) {
                long dropped = droppedUpTo(zk, bp, entries);
                if (dropped > 0) {
                    raiseHorizon(zk, dropped);
                }
                for (int i = 0; i < entries.size(); i += DELETE_BATCH) {
                    List<Op> deletes = new ArrayList<>();
                    for (String e : entries.subList(i, Math.min(entries.size(), i + DELETE_BATCH))) {
                        deletes.add(Op.delete(bp + "/" + e, -1));
                    }
                    try {
                        zk.multi(deletes);
                    } catch (KeeperException e) {
                        for (Op d : deletes) {
                            try {
                                zk.delete(d.getPath(), -1);
                            } catch (KeeperException.NoNodeException gone) {
                                // already collected
                            }
                        }
                    }
                }
            }
            try {
                zk.delete(bp, -1);
            } catch (KeeperException.NoNodeException | KeeperException.NotEmptyException e) {
                // collected by someone else, or written by a node whose clock is behind: next round
            }
        }
    }

    /**
     * The largest sequence deleting {@code entries} can drop: their largest czxid with any index in
     * its multi, but never beyond the newest commit (read after the listing, so it covers them), so
     * {@code replayableAfter()} never exceeds {@code currentSequence()}.
     */
    private long droppedUpTo(ZooKeeper zk, String bucket, List<String> entries) throws KeeperException, InterruptedException {
        long maxCzxid = 0;
        for (int i = 0; i < entries.size(); i += STAT_WINDOW) {
            List<CompletableFuture<Stat>> stats = new ArrayList<>();
            for (String e : entries.subList(i, Math.min(entries.size(), i + STAT_WINDOW))) {
                stats.add(ZkCalls.exists(zk, bucket + "/" + e));
            }
            for (CompletableFuture<Stat> f : stats) {
                Stat s = await(f);
                if (s != null) {
                    maxCzxid = Math.max(maxCzxid, s.getCzxid());
                }
            }
        }
        if (maxCzxid == 0) {
            return 0; // all deleted meanwhile: by a collection that raised the horizon over them first
        }
        Stat seqStat = new Stat();
        byte[] seqData = zk.getData(layout.seq, false, seqStat);
        long newest = ZnodeLayout.seqSequence(seqStat, seqData);
        return Math.min(ZnodeLayout.sequence(maxCzxid, ZnodeLayout.MAX_SUBS - 1), newest);
    }

    private <T> T await(CompletableFuture<T> f) throws KeeperException, InterruptedException {
        try {
            return f.get(callTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = ZkCalls.unwrap(e);
            if (cause instanceof KeeperException ke) {
                throw ke;
            }
            throw new IllegalStateException(cause);
        } catch (TimeoutException e) {
            throw new KeeperException.OperationTimeoutException();
        }
    }

    static long bucketIndex(String bucket) {
        if (!bucket.startsWith(BUCKET_PREFIX)) {
            return -1;
        }
        try {
            return Long.parseLong(bucket.substring(BUCKET_PREFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    // ---- replaying -------------------------------------------------------------------------------

    /** Ends a replay early with {@code onResync}: the reason says why. */
    private static final class Aborted extends Exception {
        private static final long serialVersionUID = 1L;

        Aborted(String reason) {
            super(reason, null, false, false);
        }
    }

    /** The watch was closed (or resynchronised) while its history was read. */
    private static final class Stopped extends Exception {
        private static final long serialVersionUID = 1L;

        Stopped() {
            super(null, null, false, false);
        }
    }

    private record Bucket(String path, long czxid) {
    }

    private record Pending(String path, int size) {
    }

    /**
     * Delivers the history after {@code afterSequence} to {@code w}, then hands it over to the live
     * feed (see {@link ChangeFeed.FeedWatch}). Runs on a thread of its own; blocks only itself.
     */
    void replay(ChangeFeed.FeedWatch w, long afterSequence) {
        long from = afterSequence;
        try {
            while (true) {
                long to = w.replayTarget();
                if (to < 0) {
                    return;
                }
                if (to > from) {
                    readRange(w, from, to);
                }
                if (w.finishReplay(to)) {
                    return;
                }
                from = to; // the junction moved up while we read: read on to it
            }
        } catch (Stopped | InterruptedException e) {
            // closed
        } catch (Aborted e) {
            w.resync(e.getMessage());
        } catch (RuntimeException | KeeperException e) {
            Throwable cause = ZkCalls.unwrap(e);
            if (!ZkCalls.isConnectionProblem(cause)) {
                LOG.warn("could not replay the change history of {} after sequence {}", w, from, e);
            }
            w.resync("the change history after sequence " + from + " could not be read (" + cause + "); batches after it were not delivered");
        }
    }

    /** Delivers the batches with {@code from < sequence <= to} touching the watch's subtree, in order. */
    private void readRange(ChangeFeed.FeedWatch w, long from, long to) throws Aborted, Stopped, KeeperException, InterruptedException {
        ZooKeeper zk = handle.get();
        long fromZxid = from >>> ZnodeLayout.SUB_BITS;
        long toZxid = to >>> ZnodeLayout.SUB_BITS;
        long[] delivered = {from};
        // the listing is made after `to` was read on this session, so it holds every entry up to `to` not yet collected
        CompletableFuture<ZkCalls.Children> listing = ZkCalls.getChildren(zk, layout.log);
        CompletableFuture<Long> horizon = readHorizon(zk);
        ZkCalls.Children log = await(listing);
        if (log == null) {
            throw new Aborted(layout.log + " is missing: the registry's znodes under " + layout.chroot + " were removed");
        }
        afterBucketListing.run();
        checkHorizon(await(horizon), delivered[0]);
        List<String> names = log.names().stream().filter(n -> bucketIndex(n) >= 0).toList();
        List<CompletableFuture<Stat>> stats = new ArrayList<>();
        for (String n : names) {
            stats.add(ZkCalls.exists(zk, layout.log + "/" + n));
        }
        List<Bucket> buckets = new ArrayList<>();
        boolean vanished = false;
        for (int i = 0; i < names.size(); i++) {
            Stat s = await(stats.get(i));
            if (s == null || s.getCzxid() > log.stat().getPzxid()) {
                // gone, or created again since the listing named it (collected, then re-created by a writer whose clock is
                // behind): either way it may have held entries of the range that the horizon read before it does not cover
                vanished = true;
            } else if (s.getCzxid() <= toZxid && s.getPzxid() >= fromZxid) {
                if (s.getNumChildren() > 0) {
                    buckets.add(new Bucket(layout.log + "/" + names.get(i), s.getCzxid()));
                } else {
                    // emptied by a collection that has not deleted it (yet, or ever: its primary stopped): it may
                    // have held entries of the range, and no listing below would read the horizon raised over them
                    vanished = true;
                }
            }
        }
        if (vanished) {
            checkHorizon(await(readHorizon(zk)), delivered[0]);
        }
        buckets.sort(Comparator.comparingLong(Bucket::czxid));
        TreeMap<Long, List<Pending>> index = new TreeMap<>();
        for (int b = 0; b < buckets.size(); b++) {
            String bp = buckets.get(b).path();
            CompletableFuture<ZkCalls.Children> entries = ZkCalls.getChildren(zk, bp);
            CompletableFuture<Long> after = readHorizon(zk);
            ZkCalls.Children ch = await(entries);
            checkHorizon(await(after), delivered[0]);
            if (ch != null) {
                boolean missing = false;
                for (int i = 0; i < ch.names().size(); i += STAT_WINDOW) {
                    List<String> part = ch.names().subList(i, Math.min(ch.names().size(), i + STAT_WINDOW));
                    List<CompletableFuture<Stat>> entryStats = new ArrayList<>();
                    for (String e : part) {
                        entryStats.add(ZkCalls.exists(zk, bp + "/" + e));
                    }
                    for (int j = 0; j < part.size(); j++) {
                        Stat s = await(entryStats.get(j));
                        if (s == null) {
                            missing = true;
                        } else if (s.getCzxid() >= fromZxid && s.getCzxid() <= toZxid) {
                            index.computeIfAbsent(s.getCzxid(), z -> new ArrayList<>()).add(new Pending(bp + "/" + part.get(j), s.getDataLength()));
                        }
                    }
                }
                if (missing) {
                    checkHorizon(await(readHorizon(zk)), delivered[0]);
                }
            }
            long limit = b + 1 < buckets.size() ? buckets.get(b + 1).czxid() : Long.MAX_VALUE;
            drain(zk, w, index, limit, from, to, delivered);
        }
    }

    /** Reads and delivers the indexed entries created before {@code limit}, a chunk at a time. */
    private void drain(ZooKeeper zk, ChangeFeed.FeedWatch w, TreeMap<Long, List<Pending>> index, long limit, long from, long to, long[] delivered)
            throws Aborted, Stopped, KeeperException, InterruptedException {
        while (!index.isEmpty() && index.firstKey() < limit) {
            List<Pending> chunk = new ArrayList<>();
            long bytes = 0;
            // a multi's entries share its czxid: they go in one chunk, to be sorted by their index
            while (!index.isEmpty() && index.firstKey() < limit && (chunk.isEmpty() || chunk.size() < CHUNK_ENTRIES && bytes < CHUNK_BYTES)) {
                for (Pending p : index.pollFirstEntry().getValue()) {
                    chunk.add(p);
                    bytes += p.size();
                }
            }
            List<CompletableFuture<ZkCalls.NodeData>> reads = new ArrayList<>();
            for (Pending p : chunk) {
                reads.add(ZkCalls.getData(zk, p.path()));
            }
            TreeMap<Long, List<Change>> batches = new TreeMap<>();
            boolean missing = false;
            for (int i = 0; i < chunk.size(); i++) {
                ZkCalls.NodeData d = await(reads.get(i));
                if (d == null) {
                    missing = true;
                    continue;
                }
                long sequence = ZnodeLayout.logEntrySequence(d.stat(), d.data());
                if (sequence <= from || sequence > to) {
                    continue;
                }
                List<Change> changes;
                try {
                    changes = ZnodeLayout.decodeLogEntry(chunk.get(i).path(), d.data(), sequence);
                } catch (RuntimeException e) {
                    throw new Aborted("change-log entry " + chunk.get(i).path() + " is corrupt: " + e.getMessage());
                }
                if (changes != null) { // null: a fence, no batch
                    batches.put(sequence, changes);
                }
            }
            if (missing) {
                checkHorizon(await(readHorizon(zk)), delivered[0]);
            }
            for (Map.Entry<Long, List<Change>> e : batches.entrySet()) {
                List<Change> mine = new ArrayList<>();
                for (Change c : e.getValue()) {
                    if (ChangeDispatcher.concerns(w.subtree, c)) {
                        mine.add(c);
                    }
                }
                delivered[0] = e.getKey();
                if (!mine.isEmpty() && !w.offerHistory(new ChangeBatch(e.getKey(), mine))) {
                    throw new Stopped();
                }
            }
        }
    }

    /** Fails the replay when the log's collection may have dropped a batch after {@code delivered} that this watch has not read. */
    private void checkHorizon(long horizon, long delivered) throws Aborted {
        if (horizon > delivered) {
            throw new Aborted("the change history after sequence " + delivered + " was dropped while this watch replayed it: it is retained only after"
                    + " sequence " + horizon + " (" + retention + "); batches after " + delivered + " were not delivered");
        }
    }
}
