package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.CheckVersionRequest;
import org.apache.zookeeper.proto.SetDataRequest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns a {@link WriteBatch} into one ZooKeeper multi, given a snapshot of the znodes it depends on.
 *
 * <p>The batch is simulated on the snapshot, command by command, so conditions see the effects of
 * earlier commands. Everything the outcome depends on is re-verified by the multi itself:
 * <ul>
 *   <li>mutations verify themselves ({@code create} fails if the node appeared, {@code setData} and
 *       {@code delete} fail if it vanished, deleting a key fails if a child appeared);</li>
 *   <li>"exists" facts become {@code check(path, -1)};</li>
 *   <li>"absent" facts become {@code create}+{@code delete} of the first missing node of the path
 *       (it fails if the node exists). A node the batch creates where the snapshot has none rests on
 *       that fact too, and so does every answer about what lies below it: a condition there carries
 *       the fact (in the multi that applies the batch, the node's own {@code create} checks it and
 *       the guard is left out);</li>
 *   <li>facts about a value's bytes or revision become {@code check(path, version)} on the value and
 *       on every key above it. A version alone does not identify a node across delete and
 *       re-create, so every batch that deletes a node also bumps its parent's data version: an
 *       unchanged version of each ancestor, read before the node, proves no ancestor and not the
 *       value itself was deleted and re-created since the snapshot.</li>
 * </ul>
 * Guards come first in the multi, except that a check on a node which the batch then sets, before
 * any other op touches it, travels in that {@code setData} instead: a version check becomes the
 * setData's version (it fails exactly when the check would), an existence check is dropped (a
 * setData of a missing node fails anyway). That is a save's version record, and the key above a
 * deleted value, whose version the delete bumps. If any guard or mutation fails, the snapshot was stale and the
 * batch is planned again on a fresh one. A condition found false produces a "proof" multi: the
 * guards of the facts that made it false and of those the commands before it rested on, then a
 * check that always fails; if that check is the one that fails, the condition was the first false
 * one when the multi ran and nothing was applied. A revision
 * condition the value had already passed when read needs no proof (see {@link #revisionPassed}).
 */
final class BatchPlanner {

    private static final byte[] EMPTY = new byte[0];

    private final ZnodeLayout layout;
    private final List<ACL> acl;

    BatchPlanner(ZnodeLayout layout, List<ACL> acl) {
        this.layout = layout;
        this.acl = acl;
    }

    /** What the planner needs to know before planning: node stats (and data where compared), and subtree listings. */
    record Needs(List<String> statPaths, Set<String> dataPaths, List<RegistryPath> listedKeys, Set<String> revisionPaths) {
    }

    /** One node as read for the snapshot. */
    record SnapNode(Stat stat, byte[] data, List<String> children) {
    }

    enum Role { GUARD, MUTATION, PROOF_END, SEQUENCE, LOG }

    /**
     * The multi to send. {@code failedCondition >= 0} marks a proof plan (or, without ops, a
     * condition that is false whatever the snapshot).
     */
    record Plan(List<Op> ops, List<Role> roles, int failedCondition, List<Change> changes, List<String> createdValuePaths,
                List<String> deletedPaths) {
        boolean changesSomething() {
            return !changes.isEmpty();
        }
    }

    Needs needs(WriteBatch batch) {
        Set<String> stats = new LinkedHashSet<>();
        Set<String> data = new LinkedHashSet<>();
        Set<String> revisions = new LinkedHashSet<>();
        List<RegistryPath> listed = new ArrayList<>();
        stats.add(layout.data);
        Set<RegistryPath> keysSeen = new HashSet<>();
        for (BatchCommand c : batch.commands()) {
            RegistryPath key = c.key();
            if (keysSeen.add(key)) {
                // an escaped segment never holds '/', so the key's ancestors are prefixes of its znode path
                String keyPath = layout.keyPath(key);
                for (int slash = keyPath.indexOf('/', layout.data.length() + 1); slash > 0; slash = keyPath.indexOf('/', slash + 1)) {
                    stats.add(keyPath.substring(0, slash));
                }
                stats.add(keyPath);
            }
            String name = c.valueName();
            if (name != null) {
                String vp = layout.valuePath(key, name);
                stats.add(vp);
                if (c instanceof BatchCommand.ValueEquals) {
                    data.add(vp);
                } else if (c instanceof BatchCommand.RevisionEquals) {
                    revisions.add(vp); // the revision's low bits are in the value's bytes
                }
            }
            if (c instanceof BatchCommand.DeleteKey) {
                listed.add(key);
            }
        }
        // ancestors before descendants: the incarnation argument needs each parent read before its child.
        // Grouped by depth, first-named first within a depth: no comparison of long shared-prefix paths
        // (a batch of 100 saves needs some 400 paths, on every commit's calling thread)
        List<List<String>> byDepth = new ArrayList<>();
        for (String path : stats) {
            int d = depth(path);
            while (byDepth.size() <= d) {
                byDepth.add(new ArrayList<>());
            }
            byDepth.get(d).add(path);
        }
        List<String> ordered = new ArrayList<>(stats.size());
        for (List<String> level : byDepth) {
            ordered.addAll(level);
        }
        return new Needs(ordered, data, listed, revisions);
    }

    private static int depth(String path) {
        int n = 0;
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '/') {
                n++;
            }
        }
        return n;
    }


    // ---- the simulated tree -----------------------------------------------------------------------

    /** A znode as the batch sees it at the current command. */
    private static final class Node {
        final String path;
        final Node parent;
        final TreeMap<String, Node> children = new TreeMap<>();
        /** The node existed in the snapshot (and then has a stat). */
        final boolean existedAtStart;
        final Stat stat;
        final byte[] startData;
        boolean exists;
        /** Whether the node's current incarnation is the snapshot's. */
        boolean snapshotIncarnation;
        /** This batch deleted the node (directly or with an ancestor): what lies there now is the batch's alone. */
        boolean deletedByBatch;
        /** Every child is in {@link #children} (listed in the snapshot, or created/emptied by this batch). */
        boolean childrenKnown;
        /** The value set by this batch (only for value nodes, while set). */
        RegistryValue batchValue;

        Node(String path, Node parent, SnapNode snap) {
            this.path = path;
            this.parent = parent;
            this.existedAtStart = snap != null && snap.stat() != null;
            this.stat = existedAtStart ? snap.stat() : null;
            this.startData = existedAtStart ? snap.data() : null;
            this.exists = existedAtStart;
            this.snapshotIncarnation = existedAtStart;
            if (existedAtStart && snap.children() != null) {
                childrenKnown = true;
            }
        }
    }

    private final class Sim {
        final Map<String, SnapNode> snapshot;
        final Node root;
        final Map<String, Op> guards = new LinkedHashMap<>();
        final List<Op> mutations = new ArrayList<>();
        /** The batch's changes, one per effect in command order. */
        final List<Change> changes = new ArrayList<>();
        final List<String> createdValues = new ArrayList<>();
        final List<String> deleted = new ArrayList<>();
        /**
         * Nodes the batch creates where the snapshot's tree ends (the parent is the snapshot's): the
         * create fails exactly when an "absent" guard on the node would.
         */
        final Set<String> createdOnAbsence = new HashSet<>();

        Sim(Map<String, SnapNode> snapshot) {
            this.snapshot = snapshot;
            SnapNode rootSnap = snapshot.get(layout.data);
            if (rootSnap == null || rootSnap.stat() == null) {
                throw new IllegalStateException("the registry root " + layout.data + " is missing from the snapshot");
            }
            this.root = new Node(layout.data, null, rootSnap);
            loadChildren(root);
        }

        /** Materialises the listed children of a snapshot node, recursively. */
        private void loadChildren(Node n) {
            SnapNode s = snapshot.get(n.path);
            if (s == null || s.children() == null) {
                return;
            }
            for (String child : s.children()) {
                String cp = n.path + "/" + child;
                SnapNode cs = snapshot.get(cp);
                // a listed child always exists in the snapshot, even when it was not stat'ed itself
                if (cs != null && cs.stat() == null) {
                    continue; // read as absent earlier: a delete of the parent then fails and the batch is planned again
                }
                Node c = new Node(cp, n, cs != null ? cs : new SnapNode(new Stat(), null, null));
                if (ZnodeLayout.isValueChild(child)) {
                    c.childrenKnown = true; // values never have children
                }
                n.children.put(child, c);
                if (c.childrenKnown) {
                    loadChildren(c);
                }
            }
        }

        Node child(Node parent, String name) {
            Node c = parent.children.get(name);
            if (c != null) {
                return c;
            }
            String cp = parent.path + "/" + name;
            SnapNode s = parent.existedAtStart && parent.snapshotIncarnation && !parent.childrenKnown ? snapshot.get(cp) : null;
            if (s == null && parent.exists && parent.snapshotIncarnation && !parent.childrenKnown && !snapshot.containsKey(cp)) {
                throw new IllegalStateException("planner bug: " + cp + " was not read for the snapshot");
            }
            c = new Node(cp, parent, parent.exists && parent.snapshotIncarnation ? s : null);
            if (!parent.exists || !parent.snapshotIncarnation) {
                // below a missing or new key nothing of the snapshot exists
                c.exists = false;
                c.snapshotIncarnation = false;
            }
            parent.children.put(name, c);
            if (c.childrenKnown) {
                loadChildren(c);
            }
            return c;
        }

        Node key(RegistryPath key) {
            Node n = root;
            for (String s : key.segments()) {
                n = child(n, ZnodeLayout.escape(s));
            }
            return n;
        }

        Node value(RegistryPath key, String name) {
            return child(key(key), ZnodeLayout.VALUE_PREFIX + ZnodeLayout.escape(name));
        }

        // ---- guards --------------------------------------------------------------------------

        void guardExists(Map<String, Op> into, Node n) {
            into.putIfAbsent("exists " + n.path, Op.check(n.path, -1));
        }

        /** The snapshot said the node is absent: assert that with create+delete of the first missing node on its path. */
        void guardAbsent(Map<String, Op> into, Node n) {
            Node first = n;
            for (Node a = n; a != null; a = a.parent) {
                if (!a.existedAtStart) {
                    first = a;
                }
            }
            if (into.containsKey("absent " + first.path)) {
                return;
            }
            into.put("absent " + first.path, Op.create(first.path, EMPTY, acl, CreateMode.PERSISTENT));
            into.put("absent-undo " + first.path, Op.delete(first.path, -1));
        }

        /** The node's snapshot state (bytes, revision) is still current: versions of it and every ancestor. */
        void guardIncarnation(Map<String, Op> into, Node n) {
            // an ancestor already guarded came with its own ancestors: stop there (a batch of 100 saves
            // guards 100 values below one key)
            List<Node> chain = new ArrayList<>();
            for (Node a = n; a != null && !into.containsKey("version " + a.path); a = a.parent) {
                chain.add(a);
            }
            for (int i = chain.size() - 1; i >= 0; i--) {
                Node a = chain.get(i);
                into.put("version " + a.path, Op.check(a.path, a.stat.getVersion()));
            }
        }

        // ---- mutations -----------------------------------------------------------------------

        Node ensureKey(RegistryPath key) {
            Node n = root;
            List<String> segments = key.segments();
            for (int i = 0; i < segments.size(); i++) {
                n = child(n, ZnodeLayout.escape(segments.get(i)));
                if (!n.exists) {
                    RegistryPath sofar = i == segments.size() - 1 ? key : RegistryPath.of(segments.subList(0, i + 1));
                    created(n);
                    mutations.add(Op.create(n.path, EMPTY, acl, CreateMode.PERSISTENT));
                    n.exists = true;
                    n.snapshotIncarnation = false;
                    n.childrenKnown = true;
                    n.children.clear();
                    keyCreated(sofar);
                }
            }
            return n;
        }

        /** Notes that the batch creates {@code n}, which does not exist now. */
        void created(Node n) {
            if (!n.existedAtStart && n.parent.snapshotIncarnation) {
                createdOnAbsence.add(n.path);
            }
        }

        void delete(Node n, boolean bumpParent) {
            // children first: post-order
            if (n.exists && !n.childrenKnown) {
                throw new IllegalStateException("planner bug: deleting " + n.path + " whose children were not listed");
            }
            for (Node c : new ArrayList<>(n.children.values())) {
                if (c.exists) {
                    delete(c, false);
                }
            }
            mutations.add(Op.delete(n.path, -1));
            deleted.add(n.path);
            if (n.snapshotIncarnation && bumpParent) {
                // a later batch's version check on the parent then notices this deletion
                mutations.add(Op.setData(n.parent.path, EMPTY, -1));
            }
            markDeleted(n);
        }

        private void markDeleted(Node n) {
            n.deletedByBatch = true;
            n.exists = false;
            n.snapshotIncarnation = false;
            n.batchValue = null;
            n.childrenKnown = true;
            for (Node c : n.children.values()) {
                markDeleted(c);
            }
            n.children.clear();
        }

        // ---- changes: one per effect, in command order (registry-contract.md, "Change feed") ---------
        // Never netted: a value set twice is two ValueSets, a key created and deleted by the batch is a
        // KeyCreated and a KeyDeleted — the effects every backend reports, so feeds (and sites that
        // replay them) agree whatever backend wrote the batch. Each is called only for an effect that
        // happens: a missing key created, an existing value or key deleted.

        void keyCreated(RegistryPath key) {
            changes.add(new Change.KeyCreated(key));
        }

        void keyDeleted(RegistryPath key) {
            changes.add(new Change.KeyDeleted(key));
        }

        void valueSet(RegistryPath key, String name, RegistryValue value) {
            changes.add(new Change.ValueSet(key, name, new VersionedValue(value, 1)));
        }

        void valueDeleted(RegistryPath key, String name) {
            changes.add(new Change.ValueDeleted(key, name));
        }
    }

    // ---- planning ---------------------------------------------------------------------------------

    /**
     * Plans the batch on the snapshot. The snapshot holds every path of {@link #needs} (null stat
     * when absent) and, for listed keys that exist, their whole subtree.
     */
    Plan plan(WriteBatch batch, Map<String, SnapNode> snapshot) {
        Sim sim = new Sim(snapshot);
        List<BatchCommand> commands = batch.commands();
        boolean conditionsRelyOnSnapshot = false;
        for (int i = 0; i < commands.size(); i++) {
            BatchCommand c = commands.get(i);
            if (c instanceof BatchCommand.CreateKey ck) {
                Node k = sim.key(ck.key());
                if (k.exists) {
                    if (k.snapshotIncarnation) {
                        sim.guardExists(sim.guards, k);
                    }
                } else {
                    sim.ensureKey(ck.key());
                }
            } else if (c instanceof BatchCommand.SetValue sv) {
                Node k = sim.ensureKey(sv.key());
                Node v = sim.child(k, ZnodeLayout.VALUE_PREFIX + ZnodeLayout.escape(sv.name()));
                byte[] stored = ZnodeLayout.encodeValue(sv.value());
                if (v.exists) {
                    sim.mutations.add(Op.setData(v.path, stored, -1));
                } else {
                    sim.created(v);
                    sim.mutations.add(Op.create(v.path, stored, acl, CreateMode.PERSISTENT));
                    sim.createdValues.add(v.path);
                    v.exists = true;
                    v.snapshotIncarnation = false;
                    v.childrenKnown = true;
                }
                v.batchValue = sv.value();
                sim.valueSet(sv.key(), sv.name(), sv.value());
            } else if (c instanceof BatchCommand.DeleteValue dv) {
                Node v = sim.value(dv.key(), dv.name());
                if (v.exists) {
                    v.childrenKnown = true;
                    sim.delete(v, true);
                    sim.valueDeleted(dv.key(), dv.name());
                } else if (!deletedByBatch(v)) {
                    sim.guardAbsent(sim.guards, v);
                }
            } else if (c instanceof BatchCommand.DeleteKey dk) {
                Node k = sim.key(dk.key());
                if (k.exists) {
                    sim.delete(k, true);
                    sim.keyDeleted(dk.key());
                } else if (!deletedByBatch(k)) {
                    sim.guardAbsent(sim.guards, k);
                }
            } else {
                Map<String, Op> facts = new LinkedHashMap<>();
                if (evaluate(sim, (BatchCommand.Condition) c, facts)) {
                    conditionsRelyOnSnapshot |= !facts.isEmpty();
                    facts.forEach(sim.guards::putIfAbsent);
                } else if (!conditionsRelyOnSnapshot && revisionPassed(sim, c)) {
                    // false at every state from the read on, so no proof multi is needed; a proof would
                    // fail whenever the value changed again meanwhile, and under a writer that never pauses
                    // the batch would re-plan until its deadline instead of failing. Only when no earlier
                    // condition held on snapshot facts: their truth at one moment with this one is unproven.
                    return proof(Map.of(), i);
                } else {
                    // the facts earlier conditions held on travel too: stale, one of them fails before the
                    // proof's end and the batch is planned again, so the index reported is that of the first
                    // condition false at one moment, not of a later one after an earlier held on old facts
                    Map<String, Op> all = new LinkedHashMap<>();
                    sim.guards.forEach((path, guard) -> {
                        if (guard != null) {
                            all.put(path, guard);
                        }
                    });
                    facts.forEach(all::putIfAbsent);
                    return proof(all, i);
                }
            }
        }
        // assemble: guards, mutations, then the sequence touch and the log entry (added by the caller)
        List<Op> ops = new ArrayList<>();
        List<Role> roles = new ArrayList<>();
        Map<String, Integer> firstSet = firstSetData(sim.mutations);
        for (Map.Entry<String, Op> g : sim.guards.entrySet()) {
            Op guard = g.getValue();
            if (guard == null || sim.createdOnAbsence.contains(absentGuardPath(g.getKey()))) {
                // the batch's own create of that node verifies its absence: two ops fewer
                continue;
            }
            Integer set = guard.getType() == ZooDefs.OpCode.check ? firstSet.get(guard.getPath()) : null;
            if (set != null) {
                // the batch sets this value before anything else touches it: the setData carries the
                // check's version (a setData fails on a missing node anyway), one op fewer per save
                int version = ((CheckVersionRequest) guard.toRequestRecord()).getVersion();
                if (version >= 0) {
                    SetDataRequest r = (SetDataRequest) sim.mutations.get(set).toRequestRecord();
                    sim.mutations.set(set, Op.setData(r.getPath(), r.getData(), version));
                }
                continue;
            }
            ops.add(guard);
            roles.add(Role.GUARD);
        }
        for (Op m : sim.mutations) {
            ops.add(m);
            roles.add(Role.MUTATION);
        }
        return new Plan(ops, roles, -1, List.copyOf(sim.changes), sim.createdValues, sim.deleted);
    }

    /** The node an "absent" guard (its create or its delete) is about, from its key in the guard map; null for other guards. */
    private static String absentGuardPath(String guardKey) {
        if (guardKey.startsWith("absent ")) {
            return guardKey.substring("absent ".length());
        }
        return guardKey.startsWith("absent-undo ") ? guardKey.substring("absent-undo ".length()) : null;
    }

    /** Per path whose first mutation is an unconditional {@code setData}, that mutation's index. */
    private static Map<String, Integer> firstSetData(List<Op> mutations) {
        Map<String, Integer> first = new HashMap<>();
        Set<String> touched = new HashSet<>();
        for (int i = 0; i < mutations.size(); i++) {
            Op m = mutations.get(i);
            if (touched.add(m.getPath()) && m.getType() == ZooDefs.OpCode.setData
                    && ((SetDataRequest) m.toRequestRecord()).getVersion() == -1) {
                first.put(m.getPath(), i);
            }
        }
        return first;
    }

    /**
     * Whether the node's absence comes from this batch alone (it or an ancestor was deleted by it), so
     * no snapshot fact needs guarding. Not so for a node below a key the batch created: that key's
     * creation rested on the snapshot's word that it was absent.
     */
    private static boolean deletedByBatch(Node n) {
        for (Node a = n; a != null; a = a.parent) {
            if (a.deletedByBatch) {
                return true;
            }
        }
        return false;
    }

    /**
     * A condition is false: the facts it rested on, then a check that always fails. Without facts
     * (the batch itself decided the answer) there is nothing to send.
     */
    private Plan proof(Map<String, Op> facts, int index) {
        List<Op> ops = new ArrayList<>(facts.values());
        List<Role> roles = new ArrayList<>();
        ops.forEach(o -> roles.add(Role.GUARD));
        if (!ops.isEmpty()) {
            ops.add(Op.check(layout.absentSentinel, -1));
            roles.add(Role.PROOF_END);
        }
        return new Plan(ops, roles, index, List.of(), List.of(), List.of());
    }

    /** Evaluates a condition on the simulated state, recording into {@code facts} the snapshot facts the answer rests on. */
    private boolean evaluate(Sim sim, BatchCommand.Condition c, Map<String, Op> facts) {
        if (c instanceof BatchCommand.KeyExists ke) {
            if (ke.key().isRoot()) {
                return true;
            }
            Node k = sim.key(ke.key());
            factOfExistence(sim, facts, k);
            return k.exists;
        } else if (c instanceof BatchCommand.KeyAbsent ka) {
            if (ka.key().isRoot()) {
                return false;
            }
            Node k = sim.key(ka.key());
            factOfExistence(sim, facts, k);
            return !k.exists;
        } else if (c instanceof BatchCommand.ValueExists ve) {
            Node v = sim.value(ve.key(), ve.name());
            factOfExistence(sim, facts, v);
            return v.exists;
        } else if (c instanceof BatchCommand.ValueAbsent va) {
            Node v = sim.value(va.key(), va.name());
            factOfExistence(sim, facts, v);
            return !v.exists;
        } else if (c instanceof BatchCommand.ValueEquals eq) {
            Node v = sim.value(eq.key(), eq.name());
            if (!v.exists) {
                factOfExistence(sim, facts, v);
                return false;
            }
            if (v.batchValue != null) {
                return v.batchValue.equals(eq.expected());
            }
            sim.guardIncarnation(facts, v);
            byte[] expected = ZnodeLayout.encodeValue(eq.expected());
            return Arrays.equals(v.startData, expected);
        } else if (c instanceof BatchCommand.RevisionEquals re) {
            Node v = sim.value(re.key(), re.name());
            if (!v.exists) {
                factOfExistence(sim, facts, v);
                return false;
            }
            if (!v.snapshotIncarnation || v.batchValue != null) {
                // set by this batch: its revision will be this batch's sequence, which no caller can know yet
                return false;
            }
            sim.guardIncarnation(facts, v);
            return v.stat.getMzxid() == re.revision();
        }
        throw new IllegalArgumentException("unknown condition " + c);
    }

    /**
     * Whether {@code c} requires a revision that the value had already passed when it was read (or
     * learned). A value's revision is the sequence of the commit that wrote it, and sequences only
     * grow — a value deleted and set again gets a newer one — so once a value was seen at a revision
     * above the required one, the condition is false at every later state: at the read, and at every
     * moment of this commit, however stale the answering server was. (A revision below the required
     * one proves nothing: the server may not have caught up with the commit that wrote it.)
     */
    private static boolean revisionPassed(Sim sim, BatchCommand c) {
        if (!(c instanceof BatchCommand.RevisionEquals re)) {
            return false;
        }
        Node v = sim.value(re.key(), re.name());
        return v.exists && v.snapshotIncarnation && v.batchValue == null && v.stat.getMzxid() > re.revision();
    }

    /** Records the snapshot fact behind a node's current existence, unless this batch decided it. */
    private void factOfExistence(Sim sim, Map<String, Op> facts, Node n) {
        if (n.exists) {
            if (n.snapshotIncarnation) {
                sim.guardExists(facts, n);
            }
        } else if (!deletedByBatch(n)) {
            // below a key the batch creates too: that key was created on the snapshot's "absent", so
            // the answer rests on it (stale, the key existed with whatever lies below it)
            sim.guardAbsent(facts, n);
        }
    }

    // ---- request size -----------------------------------------------------------------------------

    /** The bytes ZooKeeper's server reads for this multi (what its jute.maxbuffer limits), counted by serialising. */
    static long requestSize(List<Op> ops) {
        CountingStream counter = new CountingStream();
        org.apache.jute.BinaryOutputArchive archive = org.apache.jute.BinaryOutputArchive.getArchive(counter);
        try {
            for (Op op : ops) {
                op.toRequestRecord().serialize(archive, "op");
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        // request header (xid, type), a 9-byte multi header per op, and the end marker
        return 8 + 9L * ops.size() + counter.count + 9;
    }

    private static final class CountingStream extends java.io.OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

}
