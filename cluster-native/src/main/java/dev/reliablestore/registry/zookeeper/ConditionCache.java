package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * What this registry learned about znodes (exists with a version and mzxid, or absent), so a batch
 * whose facts are all known is planned without reading a snapshot first.
 *
 * <p>Nothing here is trusted blindly: a plan built from the cache carries the same guards as one
 * built from a fresh snapshot, so a stale entry makes the multi fail and the batch is re-planned on
 * a snapshot read — never a false conflict. The one fact used alone is a value's revision above the
 * one a condition requires: revisions only grow, so that condition stays false ({@link BatchPlanner}).
 * The planner's incarnation argument (an unchanged version of every ancestor, read before the node,
 * proves the node was not deleted and re-created) holds because an entry is dropped with all its
 * descendants whenever its facts change: a descendant's entry is therefore never older than its
 * ancestors' entries. That holds only for answers of one session, which come in zxid order: a new
 * session (after an expiry; with local sessions, even on a server behind the old one) may answer
 * with an older state, and the old handle's event thread may still deliver late answers. So the
 * facts are those of one session only: an answer from another session replaces all of them.
 */
final class ConditionCache {

    /** A znode's facts; {@code stat == null} when known absent; {@code revision} of a value, or -1 when not known. */
    record Fact(Stat stat, long revision) {
        boolean exists() {
            return stat != null;
        }
    }

    private final ConcurrentSkipListMap<String, Fact> facts = new ConcurrentSkipListMap<>();
    private final int capacity;
    /** Only znodes at or below this one (the registry's data) are remembered. */
    private final String root;
    private final String rootSlash;
    /** The session (its ZooKeeper handle) whose answers every fact here came from. Under this. */
    private Object session;

    ConditionCache(String root, int capacity) {
        this.root = root;
        this.rootSlash = root + "/";
        this.capacity = capacity;
    }

    Fact get(String path) {
        return facts.get(path);
    }

    boolean knownToExist(String path) {
        Fact f = facts.get(path);
        return f != null && f.exists();
    }

    int size() {
        return facts.size();
    }

    /**
     * Records a node's stat (null: absent) and a value's revision (-1: not known), as answered on
     * {@code session} (the handle the read was sent on).
     */
    synchronized void learn(Object session, String path, Stat stat, long revision) {
        answeredOn(session);
        learn(path, stat, revision);
    }

    /** Forgets every fact of another session than {@code on}: its answers are ordered only among themselves. */
    private void answeredOn(Object on) {
        if (on != session) {
            facts.clear();
            session = on;
        }
    }

    /** As {@link #learn(Object, String, Stat, long)}, for the session already checked. Under this. */
    private void learn(String path, Stat stat, long revision) {
        if (!path.startsWith(rootSlash) && !path.equals(root)) {
            return;
        }
        if (facts.size() >= capacity) {
            // bounded by dropping everything: misses only cost a snapshot read
            facts.clear();
        }
        Fact previous = facts.get(path);
        if (revision < 0 && previous != null && previous.exists() && same(previous.stat(), stat)) {
            revision = previous.revision(); // a stat-only read of the same node keeps what we knew
        }
        Fact old = facts.put(path, new Fact(stat == null ? null : copy(stat), stat == null ? -1 : revision));
        if (old == null || !same(old.stat(), stat)) {
            dropDescendants(path);
        }
    }

    /** Forgets a node and everything below it (it may have changed in a way we did not see). */
    synchronized void forget(String path) {
        facts.remove(path);
        dropDescendants(path);
    }

    private void dropDescendants(String path) {
        if (path.startsWith(ZnodeLayout.VALUE_PREFIX, path.lastIndexOf('/') + 1)) {
            return; // a value's znode never has children (this runs for every value each commit sets)
        }
        // '/' + 1 == '0': the range holds exactly the paths below
        facts.subMap(path + "/", path + "0").clear();
    }

    /**
     * A snapshot for {@link BatchPlanner#plan} made of cached facts, or null when one of the needed
     * facts is unknown (or the plan needs data or listings, which are not cached).
     */
    synchronized Map<String, BatchPlanner.SnapNode> snapshot(BatchPlanner.Needs needs) {
        if (!needs.dataPaths().isEmpty() || !needs.listedKeys().isEmpty()) {
            return null;
        }
        Map<String, BatchPlanner.SnapNode> snapshot = new HashMap<>();
        for (String p : needs.statPaths()) {
            Fact f = facts.get(p);
            if (f == null && underAbsent(p, snapshot)) {
                // an absent-key guard's create+delete forgets what lies below it; nothing can be there
                snapshot.put(p, new BatchPlanner.SnapNode(null, null, null));
                continue;
            }
            if (f == null || f.exists() && f.revision() < 0 && needs.revisionPaths().contains(p)) {
                return null;
            }
            // the planner reads a value's mzxid as its revision
            snapshot.put(p, new BatchPlanner.SnapNode(f.exists() && f.revision() >= 0 ? withMzxid(f.stat(), f.revision()) : f.stat(), null, null));
        }
        return snapshot;
    }

    /** Whether an ancestor of {@code path} is absent in {@code snapshot} (ancestors are planned first). */
    private boolean underAbsent(String path, Map<String, BatchPlanner.SnapNode> snapshot) {
        for (int slash = path.lastIndexOf('/'); slash > root.length(); slash = path.lastIndexOf('/', slash - 1)) {
            BatchPlanner.SnapNode ancestor = snapshot.get(path.substring(0, slash));
            if (ancestor != null && ancestor.stat() == null) {
                return true;
            }
        }
        return false;
    }

    /** A copy of the stat whose mzxid is {@code mzxid} (a sequence or revision, as the planner reads it). */
    static Stat withMzxid(Stat s, long mzxid) {
        Stat c = copy(s);
        c.setMzxid(mzxid);
        return c;
    }

    /**
     * Learns from the results of our own committed multi ({@code ops} in order, its {@code zxid}, the
     * batch's index {@code sub} in it), answered on {@code session}. All at once: a batch planned
     * meanwhile must not see half of a multi — e.g. an absent-key guard's create learned but not its
     * delete, which hides every fact below that key and sends the batch to a snapshot read.
     */
    synchronized void committed(Object session, List<Op> ops, List<OpResult> results, long zxid, int sub) {
        answeredOn(session);
        long revision = ZnodeLayout.sequence(zxid, sub);
        for (int i = 0; i < ops.size() && i < results.size(); i++) {
            Op op = ops.get(i);
            OpResult r = results.get(i);
            switch (op.getType()) {
                case ZooDefs.OpCode.setData -> learn(op.getPath(), ((OpResult.SetDataResult) r).getStat(), revision);
                case ZooDefs.OpCode.create, ZooDefs.OpCode.create2 -> {
                    Stat s = new Stat();
                    s.setVersion(0);
                    s.setCzxid(zxid);
                    s.setMzxid(zxid);
                    learn(op.getPath(), s, revision);
                }
                case ZooDefs.OpCode.delete -> learn(op.getPath(), null, -1);
                default -> {
                    // checks confirm what we knew
                }
            }
        }
    }

    private static boolean same(Stat a, Stat b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.getVersion() == b.getVersion() && a.getMzxid() == b.getMzxid() && a.getCzxid() == b.getCzxid();
    }

    private static Stat copy(Stat s) {
        Stat c = new Stat();
        c.setVersion(s.getVersion());
        c.setMzxid(s.getMzxid());
        c.setCzxid(s.getCzxid());
        return c;
    }
}
