package dev.reliablestore.it.history;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntUnaryOperator;

/**
 * Checks a {@link History} of a versioned compare-and-set register per key, with the Wing &amp; Gong
 * search as improved by Lowe ("Testing for linearizability", 2017): a depth-first search over the
 * order in which operations take effect, each operation placed between its invocation and its answer,
 * with the state of the register carried along, an undo stack to backtrack, and memoisation of
 * (set of operations already placed, register state) so that no configuration is explored twice.
 *
 * <h2>The model: one key is a versioned register</h2>
 * State: absent, or (value, version). {@code get} returns it. {@code save(v)} makes it (v, version+1)
 * (version 1 after absent). {@code save(v, e)} does so only if the version is {@code e} (0 = absent),
 * else it conflicts and reports the actual version (or -1: unknown). {@code delete()} makes it absent
 * and says whether something was there; {@code delete(e)} only if the version is {@code e}, else
 * conflicts. Every write writes a unique value, so a read names the write it saw.
 *
 * <h2>Unknown outcomes</h2>
 * A write recorded {@link Op.Outcome#UNKNOWN} never answers: it may be placed at any point after its
 * invocation (with the effect it would have there, a CAS only where its condition holds), or nowhere.
 * The search succeeds once every answered operation is placed.
 *
 * <h2>Read models</h2>
 * {@link ReadModel#LINEARIZABLE}: every operation takes effect atomically between invocation and answer.
 * {@link ReadModel#SESSION}: writes that change the register (saves, CAS successes, deletes that deleted)
 * are linearizable as above; operations that only observe it — a read, a conflict (which reports what
 * the client's view holds), a delete that found nothing — are checked against a weaker rule: placed
 * between their invocation and answer like everything else, they may return any state the register had
 * <em>at or after</em> the newest state that the same client wrote or observed before (read-your-writes,
 * monotonic reads), and no state written after their answer (no reads from the future, nor of values never
 * written). This needs sequential clients (one operation at a time), which the checker verifies.
 * {@link ReadModel#CACHED}: as SESSION, except that only the client's reads and its own writes raise the
 * oldest state it may observe; a conflict or a delete that found nothing must observe a state at least
 * that new, but does not raise it (the provider's local cache: a conflict is decided on the cached
 * version but reports what a fresh registry read found, which the cache does not learn).
 *
 * <h2>Sessions shared by a group of clients</h2>
 * Under SESSION and CACHED a checker can be given the group of each client ({@link #LinearizabilityChecker(ReadModel,
 * long, IntUnaryOperator)}; in the scenarios a group is the stores of one factory, which share its cache). On top
 * of the client's own floor, an observation then may not return a state older than any state that another client
 * of its group wrote (acknowledged) or observed (as far as it raises a floor under the model) in an operation that
 * <em>answered before this one was invoked</em>: "a hit is never older than anything a store of the factory wrote
 * or observed before the read began". An operation of the group still running when the observation began does not
 * count, whatever the order the search gives the two. Each such operation precedes the observation in every
 * order the search tries (it answered before the observation was invoked), so the search knows where it took effect
 * when it places the observation: placing it records, for each other client of the group, from which of that
 * client's observations on (the first one invoked after its answer) the state must be at least as new, and that
 * client's observations take the newest of these as part of their floor. Without groups every client is its own.
 *
 * <h2>Bounds</h2>
 * At most {@value #MAX_CLIENTS_PER_KEY} clients per key (more is refused: the search would not stay
 * bounded), and at most {@code maxSteps} search steps per key: a search that reaches it is
 * {@link Verdict#INCONCLUSIVE}, which {@link Result#ok()} counts as a failure.
 */
public final class LinearizabilityChecker {

    public static final int MAX_CLIENTS_PER_KEY = 4;
    public static final long DEFAULT_MAX_STEPS = 5_000_000;

    /** What the checker demands of operations that only observe the register; see the class comment. */
    public enum ReadModel { LINEARIZABLE, SESSION, CACHED }

    public enum Verdict { LINEARIZABLE, VIOLATION, INCONCLUSIVE }

    /** The verdict on one key, with an excerpt of the history where the search got stuck. */
    public record KeyResult(String key, Verdict verdict, int operations, long steps, String excerpt) {
    }

    /** The verdict on a whole history: the worst of its keys; {@code grouped}: sessions shared by groups of clients. */
    public record Result(ReadModel model, boolean grouped, List<KeyResult> keys) {

        /** The model, and whether sessions were shared by groups of clients. */
        public String rules() {
            return grouped ? model + " (sessions per group)" : model.toString();
        }

        public boolean ok() {
            return keys.stream().allMatch(k -> k.verdict() == Verdict.LINEARIZABLE);
        }

        public Verdict verdict() {
            if (keys.stream().anyMatch(k -> k.verdict() == Verdict.VIOLATION)) {
                return Verdict.VIOLATION;
            }
            return ok() ? Verdict.LINEARIZABLE : Verdict.INCONCLUSIVE;
        }

        public long anomalies() {
            return keys.stream().filter(k -> k.verdict() != Verdict.LINEARIZABLE).count();
        }

        public String describe() {
            StringBuilder b = new StringBuilder().append(rules()).append(": ").append(verdict());
            for (KeyResult k : keys) {
                b.append("\n  key ").append(k.key()).append(": ").append(k.verdict()).append(" (").append(k.operations())
                        .append(" operations, ").append(k.steps()).append(" search steps)");
                if (k.excerpt() != null) {
                    b.append('\n').append(k.excerpt());
                }
            }
            return b.toString();
        }
    }

    private final ReadModel model;
    private final long maxSteps;
    /** The group of each client (sessions shared by a group; see the class comment), or null: every client alone. */
    private final IntUnaryOperator groups;

    public LinearizabilityChecker(ReadModel model) {
        this(model, DEFAULT_MAX_STEPS);
    }

    public LinearizabilityChecker(ReadModel model, long maxSteps) {
        this(model, maxSteps, null);
    }

    /** SESSION or CACHED with sessions shared by groups of clients: {@code groups} gives a client's group (e.g. its factory). */
    public LinearizabilityChecker(ReadModel model, IntUnaryOperator groups) {
        this(model, DEFAULT_MAX_STEPS, Objects.requireNonNull(groups));
    }

    public LinearizabilityChecker(ReadModel model, long maxSteps, IntUnaryOperator groups) {
        this.model = Objects.requireNonNull(model);
        this.maxSteps = maxSteps;
        if (groups != null && model == ReadModel.LINEARIZABLE) {
            throw new IllegalArgumentException("groups of clients apply to SESSION and CACHED; LINEARIZABLE orders every operation");
        }
        this.groups = groups;
    }

    public Result check(History history) {
        List<KeyResult> results = new ArrayList<>();
        for (Map.Entry<String, List<Op>> e : history.byKey().entrySet()) {
            results.add(checkKey(e.getKey(), e.getValue()));
        }
        return new Result(model, groups != null, results);
    }

    // ---- the register ----------------------------------------------------------------------------

    /** The register's state: absent ({@code value} null, version 0) or a value with its version. */
    record Reg(String value, long version) {
        static final Reg ABSENT = new Reg(null, 0);

        @Override
        public String toString() {
            return value == null ? "absent" : value + " v" + version;
        }
    }

    /** One operation of the key's sub-history, with what the search needs to know about it. */
    private static final class Node {
        final Op op;
        final int index;
        final int client;
        final boolean weak;
        /** Whether observing this operation raises the client's floor (its reads always; conflicts only under SESSION). */
        final boolean raises;
        boolean lastWeakOfClient;
        /** Among the observations of its client, this one's rank (from 0); -1 if it does not observe. */
        int rank = -1;
        /**
         * Groups only, for an answered operation whose result raises a floor: per client of the key, the rank of that
         * client's first observation invoked after this answered (-1: none, or not of the group, or itself).
         */
        int[] after;

        Node(Op op, int index, int client, boolean weak, boolean raises) {
            this.op = op;
            this.index = index;
            this.client = client;
            this.weak = weak;
            this.raises = raises;
        }
    }

    /** Whether the operation only observes the register (checked by the weak rule under SESSION). */
    private static boolean observes(Op op) {
        if (!op.completed()) {
            return false;
        }
        return op.kind == Op.Kind.READ || op.outcome == Op.Outcome.CONFLICT || (op.kind == Op.Kind.DELETE && !op.deleted);
    }

    /** Whether the state satisfies an observing operation's answer. */
    private static boolean seen(Node n, Reg s) {
        Op op = n.op;
        if (op.kind == Op.Kind.READ) {
            return op.value == null ? s.value() == null : op.value.equals(s.value()) && op.version == s.version();
        }
        if (op.outcome == Op.Outcome.CONFLICT) {
            return s.version() != op.expected && (op.version < 0 || op.version == s.version());
        }
        return s.value() == null; // a delete that found nothing
    }

    /** The register after a write that changes it, or null where the write cannot take effect with the answer it had. */
    private static Reg written(Node n, Reg s) {
        Op op = n.op;
        boolean ok = op.outcome == Op.Outcome.OK;
        switch (op.kind) {
            case SAVE -> {
                Reg next = new Reg(op.value, s.version() + 1);
                return !ok || op.version == next.version() ? next : null;
            }
            case CAS -> {
                if (s.version() != op.expected) {
                    return null;
                }
                Reg next = new Reg(op.value, s.version() + 1);
                return !ok || op.version == next.version() ? next : null;
            }
            case DELETE -> {
                // answered "deleted", or unknown: takes effect only on an entity (on nothing it is a no-op, i.e. never)
                return s.value() != null ? Reg.ABSENT : null;
            }
            case CAS_DELETE -> {
                return s.value() != null && s.version() == op.expected ? Reg.ABSENT : null;
            }
            default -> throw new IllegalStateException("not a write: " + op);
        }
    }

    /**
     * SESSION state: the register's states since the oldest one a client may still read ({@code window},
     * the last is the current state) and, per client, the oldest position it may read ({@code floors};
     * {@link #RETIRED} once it has no observing operation left). With groups, {@code pending}: per client,
     * the floors its group set for its later observations, as pairs (rank of the first observation bound,
     * position), ranks and positions both increasing, every position above the client's floor; null without groups.
     */
    private static final class Session {
        static final int RETIRED = -1;
        static final int[] NONE = new int[0];
        final Reg[] window;
        final int[] floors;
        final int[][] pending;
        private final int hash;

        Session(Reg[] window, int[] floors, int[][] pending) {
            // drop the states no client can read any more (pending positions are above their client's floor)
            int base = window.length - 1;
            for (int f : floors) {
                if (f != RETIRED) {
                    base = Math.min(base, f);
                }
            }
            if (base > 0) {
                window = Arrays.copyOfRange(window, base, window.length);
                floors = floors.clone();
                for (int i = 0; i < floors.length; i++) {
                    if (floors[i] != RETIRED) {
                        floors[i] -= base;
                    }
                }
                if (pending != null) {
                    pending = pending.clone();
                    for (int c = 0; c < pending.length; c++) {
                        if (pending[c].length > 0) {
                            pending[c] = pending[c].clone();
                            for (int i = 1; i < pending[c].length; i += 2) {
                                pending[c][i] -= base;
                            }
                        }
                    }
                }
            }
            this.window = window;
            this.floors = floors;
            this.pending = pending;
            this.hash = 31 * (31 * Arrays.hashCode(window) + Arrays.hashCode(floors)) + Arrays.deepHashCode(pending);
        }

        Reg current() {
            return window[window.length - 1];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Session s && s.hash == hash && Arrays.equals(s.window, window) && Arrays.equals(s.floors, floors)
                    && Arrays.deepEquals(s.pending, pending);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            return "current " + current() + ", readable states " + Arrays.toString(window) + ", client floors " + Arrays.toString(floors)
                    + (pending == null ? "" : ", floors set by the group (rank, position) " + Arrays.deepToString(pending));
        }

        /** {@code pending} of client {@code c} with the floor {@code position} from its observation of rank {@code rank} on. */
        static int[] bind(int[] list, int rank, int position) {
            for (int i = 0; i < list.length && list[i] <= rank; i += 2) {
                if (list[i + 1] >= position) {
                    return list; // an earlier (or the same) observation is already bound to as new a state
                }
            }
            int[] out = new int[list.length + 2];
            int n = 0;
            boolean added = false;
            for (int i = 0; i < list.length; i += 2) {
                if (list[i] >= rank && list[i + 1] <= position) {
                    continue; // bound from later on to an older state: implied by the new pair
                }
                if (!added && list[i] > rank) {
                    out[n++] = rank;
                    out[n++] = position;
                    added = true;
                }
                out[n++] = list[i];
                out[n++] = list[i + 1];
            }
            if (!added) {
                out[n++] = rank;
                out[n++] = position;
            }
            return n == out.length ? out : Arrays.copyOf(out, n);
        }

        /** {@code pending} of a client without the pairs at or below its floor {@code floor} and those binding ranks up to {@code rank}. */
        static int[] drop(int[] list, int rank, int floor) {
            int from = 0;
            while (from < list.length && (list[from] <= rank || list[from + 1] <= floor)) {
                from += 2;
            }
            return from == 0 ? list : from == list.length ? NONE : Arrays.copyOfRange(list, from, list.length);
        }
    }

    /** The state after placing {@code n} in {@code state}, or null where it cannot be placed. */
    private Object step(Object state, Node n) {
        if (model == ReadModel.LINEARIZABLE) {
            Reg s = (Reg) state;
            if (observes(n.op)) {
                return seen(n, s) ? s : null;
            }
            return written(n, s);
        }
        Session s = (Session) state;
        if (n.weak) {
            int from = s.floors[n.client];
            int[][] pending = s.pending;
            if (pending != null) {
                // the newest state the group wrote or observed in operations that answered before this one was invoked
                int[] own = pending[n.client];
                for (int i = 0; i < own.length && own[i] <= n.rank; i += 2) {
                    from = Math.max(from, own[i + 1]);
                }
            }
            for (int i = from; i < s.window.length; i++) {
                if (seen(n, s.window[i])) {
                    int[] floors = s.floors.clone();
                    floors[n.client] = n.lastWeakOfClient ? Session.RETIRED : n.raises ? i : from;
                    if (pending != null) {
                        pending = pending.clone();
                        pending[n.client] = n.lastWeakOfClient ? Session.NONE : Session.drop(pending[n.client], n.rank, floors[n.client]);
                        if (n.raises) {
                            bindGroup(n, i, floors, pending);
                        }
                    }
                    return new Session(s.window, floors, pending);
                }
            }
            return null;
        }
        Reg next = written(n, s.current());
        if (next == null) {
            return null;
        }
        Reg[] window = Arrays.copyOf(s.window, s.window.length + 1);
        window[window.length - 1] = next;
        int[] floors = s.floors;
        int[][] pending = s.pending;
        if (n.op.completed()) {
            if (floors[n.client] != Session.RETIRED) {
                floors = floors.clone();
                floors[n.client] = window.length - 1; // read-your-writes
            }
            if (pending != null) {
                pending = pending.clone();
                pending[n.client] = Session.NONE; // no state is newer than this write
                bindGroup(n, window.length - 1, floors, pending);
            }
        }
        return new Session(window, floors, pending);
    }

    /**
     * Groups: {@code n}, which wrote or observed the state at {@code position}, binds the observations of the other
     * clients of its group invoked after it answered to states at least that new ({@code pending} is updated).
     */
    private static void bindGroup(Node n, int position, int[] floors, int[][] pending) {
        if (n.after == null) {
            return;
        }
        for (int c = 0; c < n.after.length; c++) {
            if (n.after[c] >= 0 && floors[c] != Session.RETIRED && position > floors[c]) {
                pending[c] = Session.bind(pending[c], n.after[c], position);
            }
        }
    }

    // ---- the search ------------------------------------------------------------------------------

    /** An entry of the doubly linked list of invocations and answers, in real-time order. */
    private static final class Entry {
        final Node node;
        final boolean call;
        final long time;
        Entry match; // a call's answer (null if it never answers)
        Entry prev;
        Entry next;

        Entry(Node node, boolean call, long time) {
            this.node = node;
            this.call = call;
            this.time = time;
        }
    }

    private record Frame(Entry call, Object state) {
    }

    private record Memo(BitSet placed, Object state) {
    }

    KeyResult checkKey(String key, List<Op> all) {
        List<Node> nodes = new ArrayList<>();
        Map<Integer, Integer> clients = new LinkedHashMap<>();
        Map<Integer, List<Op>> perClient = new HashMap<>();
        for (Op op : all) {
            if (op.outcome == Op.Outcome.PENDING) {
                throw new IllegalStateException("operation still running when the history was checked: " + op);
            }
            perClient.computeIfAbsent(op.client, c -> new ArrayList<>()).add(op);
            if (op.outcome == Op.Outcome.FAILED || (op.outcome == Op.Outcome.UNKNOWN && op.kind == Op.Kind.READ)) {
                continue;
            }
            int client = clients.computeIfAbsent(op.client, c -> clients.size());
            boolean weak = model != ReadModel.LINEARIZABLE && observes(op);
            nodes.add(new Node(op, nodes.size(), client, weak, model == ReadModel.SESSION || op.kind == Op.Kind.READ));
        }
        if (clients.size() > MAX_CLIENTS_PER_KEY) {
            throw new IllegalArgumentException("key " + key + " has " + clients.size() + " clients " + clients.keySet()
                    + "; the checker takes at most " + MAX_CLIENTS_PER_KEY + " per key so that its search stays bounded");
        }
        for (List<Op> ops : perClient.values()) {
            ops.sort(Comparator.comparingLong(o -> o.invokedAt));
            for (int i = 1; i < ops.size(); i++) {
                if (ops.get(i).invokedAt < ops.get(i - 1).returnedAt) {
                    throw new IllegalArgumentException("client " + ops.get(i).client + " is not sequential: " + ops.get(i - 1)
                            + " had not returned when " + ops.get(i) + " was invoked");
                }
            }
        }
        boolean[] seenWeak = new boolean[clients.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.weak && !seenWeak[n.client]) {
                n.lastWeakOfClient = true;
                seenWeak[n.client] = true;
            }
        }
        if (groups != null) {
            rankAndBind(nodes, clients);
        }
        Object initial;
        if (model == ReadModel.LINEARIZABLE) {
            initial = Reg.ABSENT;
        } else {
            int[] floors = new int[clients.size()];
            for (int c = 0; c < floors.length; c++) {
                floors[c] = seenWeak[c] ? 0 : Session.RETIRED;
            }
            int[][] pending = null;
            if (groups != null) {
                pending = new int[clients.size()][];
                Arrays.fill(pending, Session.NONE);
            }
            initial = new Session(new Reg[] {Reg.ABSENT}, floors, pending);
        }
        return search(key, nodes, initial);
    }

    /**
     * Groups: ranks each client's observations (the nodes are in invocation order) and gives every answered
     * operation that raises a floor — an acknowledged write, an observation that raises — the rank of the first
     * observation of each other client of its group invoked after its answer.
     */
    private void rankAndBind(List<Node> nodes, Map<Integer, Integer> clients) {
        int[] group = new int[clients.size()];
        for (Map.Entry<Integer, Integer> e : clients.entrySet()) {
            group[e.getValue()] = groups.applyAsInt(e.getKey());
        }
        List<List<Node>> weakOf = new ArrayList<>();
        for (int c = 0; c < clients.size(); c++) {
            weakOf.add(new ArrayList<>());
        }
        for (Node n : nodes) {
            if (n.weak) {
                n.rank = weakOf.get(n.client).size();
                weakOf.get(n.client).add(n);
            }
        }
        for (Node n : nodes) {
            if (!n.op.completed() || (n.weak && !n.raises)) {
                continue;
            }
            n.after = new int[clients.size()];
            for (int c = 0; c < n.after.length; c++) {
                n.after[c] = -1;
                if (c == n.client || group[c] != group[n.client]) {
                    continue;
                }
                for (Node o : weakOf.get(c)) {
                    if (o.op.invokedAt > n.op.completedAt) {
                        n.after[c] = o.rank;
                        break;
                    }
                }
            }
        }
    }

    private KeyResult search(String key, List<Node> nodes, Object initial) {
        List<Entry> entries = new ArrayList<>();
        int answered = 0;
        for (Node n : nodes) {
            Entry call = new Entry(n, true, n.op.invokedAt);
            entries.add(call);
            if (n.op.completed()) {
                call.match = new Entry(n, false, n.op.completedAt);
                entries.add(call.match);
                answered++;
            }
        }
        entries.sort(Comparator.comparingLong(e -> e.time));
        Entry head = new Entry(null, false, Long.MIN_VALUE);
        Entry last = head;
        for (Entry e : entries) {
            last.next = e;
            e.prev = last;
            last = e;
        }

        BitSet placed = new BitSet(nodes.size());
        Set<Memo> memo = new HashSet<>();
        Deque<Frame> stack = new ArrayDeque<>();
        Object state = initial;
        int remaining = answered;
        long steps = 0;
        int deepest = -1;
        String excerpt = null;
        Entry entry = head.next;
        while (remaining > 0) {
            if (++steps > maxSteps) {
                return new KeyResult(key, Verdict.INCONCLUSIVE, nodes.size(), steps - 1, "    search limit of " + maxSteps
                        + " steps reached before a verdict (an inconclusive check fails: shorten the run or lower the concurrency)");
            }
            if (entry == null) {
                throw new IllegalStateException("ran off the history with " + remaining + " answered operations unplaced");
            }
            if (entry.call) {
                Object next = step(state, entry.node);
                if (next != null) {
                    placed.set(entry.node.index);
                    if (memo.add(new Memo((BitSet) placed.clone(), next))) {
                        stack.push(new Frame(entry, state));
                        state = next;
                        lift(entry);
                        if (entry.match != null) {
                            remaining--;
                        }
                        entry = head.next;
                        continue;
                    }
                    placed.clear(entry.node.index);
                }
                entry = entry.next;
            } else {
                // an answered operation that could not be placed before its answer: undo the last placement
                if (stack.size() > deepest) {
                    deepest = stack.size();
                    excerpt = excerpt(head, entry, stack, state, answered);
                }
                if (stack.isEmpty()) {
                    return new KeyResult(key, Verdict.VIOLATION, nodes.size(), steps, excerpt);
                }
                Frame f = stack.pop();
                state = f.state();
                placed.clear(f.call().node.index);
                unlift(f.call());
                if (f.call().match != null) {
                    remaining++;
                }
                entry = f.call().next;
            }
        }
        return new KeyResult(key, Verdict.LINEARIZABLE, nodes.size(), steps, null);
    }

    private static void lift(Entry call) {
        call.prev.next = call.next;
        if (call.next != null) {
            call.next.prev = call.prev;
        }
        Entry ret = call.match;
        if (ret != null) {
            ret.prev.next = ret.next;
            if (ret.next != null) {
                ret.next.prev = ret.prev;
            }
        }
    }

    private static void unlift(Entry call) {
        Entry ret = call.match;
        if (ret != null) {
            ret.prev.next = ret;
            if (ret.next != null) {
                ret.next.prev = ret;
            }
        }
        call.prev.next = call;
        if (call.next != null) {
            call.next.prev = call;
        }
    }

    /** Where the search got stuck: the operations placed last, the state, and what could not be placed next. */
    private static String excerpt(Entry head, Entry blocked, Deque<Frame> stack, Object state, int answered) {
        StringBuilder b = new StringBuilder();
        List<Frame> order = new ArrayList<>(stack);
        Collections.reverse(order);
        int placedAnswered = 0;
        for (Frame f : order) {
            if (f.call().match != null) {
                placedAnswered++;
            }
        }
        b.append("    placed ").append(placedAnswered).append(" of ").append(answered)
                .append(" answered operations in an order consistent with the model; the last ones placed, in that order:");
        for (Frame f : order.subList(Math.max(0, order.size() - 8), order.size())) {
            b.append("\n      ").append(f.call().node.op);
        }
        b.append("\n    register then: ").append(state);
        b.append("\n    then each of these was tried next and led to a contradiction:");
        for (Entry e = head.next; e != null && e != blocked; e = e.next) {
            if (e.call) {
                b.append("\n      ").append(e.node.op);
            }
        }
        b.append("\n    while this one had already answered: ").append(blocked.node.op);
        return b.toString();
    }
}
