package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.MembershipListener;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeOperationRefusedException;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.Subscription;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Who is live and who is primary.
 *
 * <p>Every open registry keeps an ephemeral node {@code cluster/members/{node}} ({@link MemberNode}: created
 * only where no other session holds it, so a second registry with the same nodeName is refused, and
 * re-created after a session expiry). The primary is elected with a
 * Curator LeaderLatch on {@code cluster/election}. Node affinity is honoured by eligibility (see
 * {@link #updateEligibility}; nodes not in the list rank after every listed one), so the most
 * preferred live node becomes primary and a less preferred primary steps down when a preferred
 * one comes back. Both directories are
 * followed with one CuratorCache; {@link MembershipEvent}s are derived from it.
 *
 * <p>Administrator-initiated moves use two more znodes under {@code cluster/}, followed by the same
 * cache. {@code drained/{node}} (persistent) keeps a node out of the election until it is resumed.
 * {@code failover} (persistent) holds the latest {@link FailoverRequest}: the admin writes it PENDING;
 * only the target can judge its own health and how far its server has caught up, so the target
 * validates itself and answers APPROVED or REFUSED; while APPROVED only the target is eligible, so
 * the old primary steps down and leadership passes straight to it; once leader it writes DONE. A
 * DONE target then ranks before every nodeAffinity node until another failover completes or the
 * node is drained, so the cluster does not move the role back by itself. The znode holds one request,
 * so each request carries the placement in effect when it was written ({@link FailoverRequest#placed}):
 * a later request that is refused, cancelled or still pending does not undo an earlier move. A
 * placement is of one incarnation of the target (its member znode's session): a target that went down
 * and came back ranks by nodeAffinity again, so its return does not move the role by itself either.
 */
final class Membership implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    private static final String NOT_CANDIDATE_MARK = "\nprimaryCandidate=false";

    private final CuratorFramework client;
    private final ZnodeLayout layout;
    private final String nodeName;
    private final List<String> affinity;
    private final MemberNode memberNode;
    private final CuratorCache cache;
    private final List<ListenerSub> listeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private LeaderLatch latch;
    private Set<String> live = Set.of();
    /** The session owning each live member's znode: which incarnation of a node is live. */
    private Map<String, Long> owners = Map.of();
    private final Set<String> everSeen = new LinkedHashSet<>();
    private String primary;
    private boolean closed;
    /** Whether the cache has read every member once: before that, a fresh registry (an admin tool) sees only part of the cluster. */
    private boolean loaded;
    private final String drainedDir;
    private final String requestPath;
    private final TakeoverCheck takeoverCheck;
    private final Servers servers;
    private final String drainedServersDir;
    private Set<String> drainedServers = Set.of();
    /** False for a connection that must never hold the role (an admin tool moving it); its member znode says so. */
    private final boolean candidate;
    private Set<String> nonCandidates = Set.of();
    /** Validation and completion of failover requests: they make blocking calls, never on the cache's thread. */
    private final ExecutorService requests;
    private Set<String> drained = Set.of();
    private FailoverRequest request;
    private int requestVersion = -1;
    /** Request ids this node has answered or completed as the target. */
    private final Set<String> handled = new HashSet<>();
    /** Membership events, delivered in order to every listener; judging a primary change reads ZooKeeper. */
    private final ExecutorService delivery;
    /** The requests whose move this node has reported as requested (delivery thread). */
    private final Set<String> reportedRequests = new HashSet<>();
    /** Requests the cache saw APPROVED or DONE, newest last, a few. */
    private final Map<String, FailoverRequest> approvedRequests = new java.util.LinkedHashMap<>();
    /** When each node was last drained (the czxid of its marker), as the cache saw it. */
    private final Map<String, Long> drainedAt = new java.util.HashMap<>();
    /** When the current primary joined the election (its latch's czxid). */
    private long primaryLatchZxid;
    /** Whether the last change reported as requested left no primary: the next one completes that handover (delivery thread). */
    private boolean handoverRequested;
    private boolean sawPrimary;

    /**
     * The ZooKeeper servers of this registry's URI, and how to connect only to those not drained.
     *
     * @param configured the servers as the URI writes them ({@code host:port})
     * @param avoid      called (off the cache's thread) with the drained servers whenever they change
     */
    record Servers(List<String> configured, java.util.function.Consumer<Set<String>> avoid) {
    }

    /** What a node answers when asked to take over: empty when it may, else the refusal. */
    @FunctionalInterface
    interface TakeoverCheck {
        Optional<NodeOperationRefusedException> check(long requiredSequence);
    }

    /**
     * @param memberAcl        the ACL of this registry's member znode (the chroot's policy)
     * @param sessionTimeoutMs the sessionTimeout option: how long a crashed process's member znode may outlive it
     */
    Membership(CuratorFramework client, ZnodeLayout layout, String nodeName, List<String> affinity, boolean candidate,
               TakeoverCheck takeoverCheck, Servers servers, List<org.apache.zookeeper.data.ACL> memberAcl, int sessionTimeoutMs) {
        this.client = client;
        this.servers = servers;
        this.drainedServersDir = layout.chroot + "/cluster/drained-servers";
        this.candidate = candidate;
        this.layout = layout;
        this.nodeName = nodeName;
        this.affinity = affinity;
        this.takeoverCheck = takeoverCheck;
        this.drainedDir = layout.chroot + "/cluster/drained";
        this.requestPath = layout.chroot + "/cluster/failover";
        this.requests = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "zookeeper-membership-requests");
            t.setDaemon(true);
            return t;
        });
        this.delivery = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "zookeeper-membership-events");
            t.setDaemon(true);
            return t;
        });
        this.memberNode = new MemberNode(layout.members + "/" + ZnodeLayout.escape(nodeName),
                (candidate ? nodeName : nodeName + NOT_CANDIDATE_MARK).getBytes(StandardCharsets.UTF_8), memberAcl, sessionTimeoutMs);
        this.cache = CuratorCache.build(client, layout.chroot + "/cluster");
        this.cache.listenable().addListener(new CuratorCacheListener() {
            @Override
            public void event(Type type, ChildData oldData, ChildData data) {
                recompute();
            }

            @Override
            public void initialized() {
                synchronized (lock) {
                    loaded = true;
                }
                recompute();
            }
        });
    }

    /** Starts and waits (bounded) until this node has read the membership and sees itself live. */
    void start(long timeoutMs) throws InterruptedException {
        cache.start();
        memberNode.start(timeoutMs);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (lock) {
            while (!(loaded && live.contains(nodeName)) && System.nanoTime() < deadline) {
                lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
            if (!(loaded && live.contains(nodeName))) {
                // opened without its membership, the registry would show no members (and a factory would refuse its
                // nodeAffinity or minimumNodes as never met) for what is a slow server
                throw new dev.reliablestore.registry.RegistryUnavailableException("node " + nodeName + " did not see the membership under "
                        + layout.members + (loaded ? " list itself" : " loaded") + " within " + timeoutMs + " ms; ZooKeeper did not answer in time", null);
            }
        }
    }

    private void recompute() {
        List<Object> events = new ArrayList<>(); // MembershipEvents, and PrimaryMoves to be judged on delivery
        synchronized (lock) {
            if (closed) {
                return;
            }
            Set<String> now = new TreeSet<>();
            Map<String, Long> nowOwners = new java.util.HashMap<>();
            Set<String> nowDrained = new TreeSet<>();
            Set<String> nowNonCandidates = new TreeSet<>();
            TreeMap<Long, String> candidates = new TreeMap<>();
            Map<Long, Long> latchZxids = new java.util.HashMap<>();
            String membersPrefix = layout.members + "/";
            String electionPrefix = layout.election + "/";
            String drainedPrefix = drainedDir + "/";
            String drainedServersPrefix = drainedServersDir + "/";
            Set<String> nowDrainedServers = new TreeSet<>();
            FailoverRequest nowRequest = null;
            int nowRequestVersion = -1;
            for (ChildData d : cache.stream().toList()) {
                String path = d.getPath();
                if (path.startsWith(membersPrefix) && path.indexOf('/', membersPrefix.length()) < 0) {
                    String member = ZnodeLayout.unescape(path.substring(membersPrefix.length()));
                    now.add(member);
                    if (d.getStat() != null) {
                        nowOwners.put(member, d.getStat().getEphemeralOwner());
                    }
                    if (d.getData() != null && new String(d.getData(), StandardCharsets.UTF_8).endsWith(NOT_CANDIDATE_MARK)) {
                        nowNonCandidates.add(member);
                    }
                } else if (path.startsWith(drainedServersPrefix) && path.indexOf('/', drainedServersPrefix.length()) < 0) {
                    nowDrainedServers.add(ZnodeLayout.unescape(path.substring(drainedServersPrefix.length())));
                } else if (path.startsWith(drainedPrefix) && path.indexOf('/', drainedPrefix.length()) < 0) {
                    String node = ZnodeLayout.unescape(path.substring(drainedPrefix.length()));
                    nowDrained.add(node);
                    if (d.getStat() != null) {
                        drainedAt.put(node, d.getStat().getCzxid());
                    }
                } else if (path.equals(requestPath) && d.getData() != null) {
                    nowRequest = FailoverRequest.parse(d.getData());
                    nowRequestVersion = d.getStat() == null ? -1 : d.getStat().getVersion();
                    remember(nowRequest);
                } else if (path.startsWith(electionPrefix) && path.indexOf('/', electionPrefix.length()) < 0) {
                    int at = path.lastIndexOf("latch-");
                    if (at > 0 && d.getData() != null) {
                        try {
                            long sequence = Long.parseLong(path.substring(at + 6));
                            candidates.put(sequence, new String(d.getData(), StandardCharsets.UTF_8));
                            latchZxids.put(sequence, d.getStat() == null ? 0 : d.getStat().getCzxid());
                        } catch (NumberFormatException ignored) {
                            // not a latch node
                        }
                    }
                }
            }
            Set<String> names = new TreeSet<>(live);
            names.addAll(now);
            for (String n : names) {
                NodeState before = stateOf(n, live, drained);
                NodeState after = stateOf(n, now, nowDrained);
                if (before != after) {
                    events.add(new MembershipEvent.NodeStateChanged(n, before, after));
                }
            }
            everSeen.addAll(now);
            live = Collections.unmodifiableSet(now);
            owners = nowOwners;
            drained = Collections.unmodifiableSet(nowDrained);
            nonCandidates = nowNonCandidates;
            if (!nowDrainedServers.equals(drainedServers)) {
                drainedServers = Collections.unmodifiableSet(nowDrainedServers);
                Set<String> avoid = drainedServers;
                requests.execute(() -> servers.avoid().accept(avoid));
            }
            request = nowRequest;
            requestVersion = nowRequestVersion;
            // the elected candidate only counts while its member node is live
            Map.Entry<Long, String> elected = candidates.entrySet().stream().filter(c -> live.contains(c.getValue())).findFirst().orElse(null);
            String newPrimary = elected == null ? null : elected.getValue();
            if (!Objects.equals(newPrimary, primary)) {
                events.add(new PrimaryMove(primary, newPrimary, sawPrimary, primaryLatchZxid));
                primary = newPrimary;
            }
            primaryLatchZxid = elected == null ? 0 : latchZxids.get(elected.getKey());
            sawPrimary |= primary != null;
            updateEligibility(new HashSet<>(candidates.values()));
            serveRequest();
            lock.notifyAll();
            if (!events.isEmpty()) {
                // queued under the lock: recompute runs on the cache's thread and on the member node's, and events
                // computed in one order must be delivered in it
                try {
                    delivery.execute(() -> deliver(events));
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    // closed meanwhile: nobody listens any more
                }
            }
        }
    }

    /**
     * A change of the primary as the cache saw it; whether it was requested is judged when it is delivered.
     *
     * @param fromLatchZxid when the old primary joined the election: a drain after that is what made it leave
     */
    private record PrimaryMove(String from, String to, boolean watchedBefore, long fromLatchZxid) {
    }

    /** Keeps a request that reached APPROVED or DONE, so a later request cannot hide the move it made. Lock held. */
    private void remember(FailoverRequest r) {
        if (r != null && (r.state() == FailoverRequest.State.APPROVED || r.state() == FailoverRequest.State.DONE)) {
            approvedRequests.put(r.id(), r);
            if (approvedRequests.size() > 16) {
                approvedRequests.remove(approvedRequests.keySet().iterator().next());
            }
        }
    }

    private void deliver(List<Object> events) {
        for (Object o : events) {
            MembershipEvent e = o instanceof PrimaryMove m ? new MembershipEvent.PrimaryChanged(m.from(), m.to(), requested(m)) : (MembershipEvent) o;
            for (ListenerSub s : listeners) {
                s.offer(e);
            }
        }
    }

    /**
     * Whether a primary change is (a step of) an administrator's move. The cache applies a deletion (the
     * old primary's latch) at once but a creation or a data change (the drained marker, the request's
     * state) only after reading it, so it may show a step-down before its cause; a read of ZooKeeper now
     * may already show a later state (the node resumed, another request). So both are asked: what the
     * cache has seen of drains and approved requests, and a fresh read. On the delivery thread, which
     * alone keeps the fields it uses.
     */
    private boolean requested(PrimaryMove m) {
        List<FailoverRequest> approved;
        Long drainZxid;
        boolean fromLive;
        synchronized (lock) {
            approved = new ArrayList<>(approvedRequests.values());
            drainZxid = m.from() == null ? null : drainedAt.get(m.from());
            fromLive = m.from() != null && live.contains(m.from());
        }
        try {
            // the raw handle fails at once while disconnected, where Curator would retry and hold up every event
            org.apache.zookeeper.ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            if (m.from() != null) {
                org.apache.zookeeper.data.Stat drainedNow = zk.exists(drainedDir + "/" + ZnodeLayout.escape(m.from()), false);
                if (drainedNow != null) {
                    drainZxid = Math.max(drainZxid == null ? 0 : drainZxid, drainedNow.getCzxid());
                }
                fromLive = zk.exists(layout.members + "/" + ZnodeLayout.escape(m.from()), false) != null;
            }
            FailoverRequest fresh = zk.exists(requestPath, false) == null ? null : FailoverRequest.parse(zk.getData(requestPath, false, null));
            if (fresh != null && (fresh.state() == FailoverRequest.State.APPROVED || fresh.state() == FailoverRequest.State.DONE)) {
                approved.add(fresh);
            }
        } catch (Exception e) {
            LOG.debug("reading ZooKeeper to judge a primary change; the cache's view stands", e);
        }
        if (!m.watchedBefore()) {
            // the first primary this node sees: a move completed before it watched is history
            approved.stream().filter(r -> r.state() == FailoverRequest.State.DONE).forEach(r -> reportedRequests.add(r.id()));
            return false;
        }
        FailoverRequest cause = approved.stream().filter(r -> !reportedRequests.contains(r.id()))
                .filter(r -> Objects.equals(m.to(), r.target()) || m.to() == null && Objects.equals(m.from(), r.from())).findFirst().orElse(null);
        // a drained primary leaves the election alive, after its latch was made; one that died was not moved by the drain
        boolean drainedAway = drainZxid != null && drainZxid > m.fromLatchZxid() && fromLive;
        boolean requested = cause != null || drainedAway || m.from() == null && handoverRequested;
        if (cause != null && Objects.equals(m.to(), cause.target())) {
            reportedRequests.add(cause.id());
        }
        handoverRequested = requested && m.to() == null;
        return requested;
    }

    /** A node's state in one view of membership; a node never seen live is UNKNOWN. Lock held. */
    private NodeState stateOf(String node, Set<String> live, Set<String> drained) {
        if (!live.contains(node)) {
            return everSeen.contains(node) ? NodeState.DOWN : NodeState.UNKNOWN;
        }
        return drained.contains(node) ? NodeState.PAUSED : NodeState.UP;
    }

    /**
     * Whether the member znode the others see is this registry's own (its session's): one held by another
     * session (a duplicate nodeName, a crashed process's not yet expired) does not make this node a member,
     * so it must not lead or take over. Lock held.
     */
    private boolean holdsOwnMemberNode() {
        long mine = memberNode.ownedSession;
        return mine != 0 && owners.getOrDefault(nodeName, 0L) == mine;
    }

    /** The node a failover placed, while it can hold the role (live, not drained); else null. Lock held. */
    private String placed() {
        Placement p = request == null ? null : request.placement();
        if (p == null || !live.contains(p.node()) || drained.contains(p.node())) {
            return null;
        }
        // a placement made before sessions were recorded (0) holds for any incarnation
        return p.session() == 0 || owners.getOrDefault(p.node(), 0L) == p.session() ? p.node() : null;
    }

    /**
     * {@code r} as it may be written again: a drained node gives up its placement (a resumed node must
     * not pull the role back), also when a later request carries it. Lock held.
     */
    private FailoverRequest carried(FailoverRequest r) {
        return r.placed() != null && drained.contains(r.placed()) ? r.placedAt(null, 0) : r;
    }

    /** As the target of a request: validate it when PENDING, mark it DONE once leader. Lock held. */
    private void serveRequest() {
        FailoverRequest r = request;
        if (r == null || !r.target().equals(nodeName)) {
            return;
        }
        int version = requestVersion;
        if (r.state() == FailoverRequest.State.PENDING && handled.add(r.id() + "/validate")) {
            requests.execute(() -> answer(r, version));
        } else if (r.state() == FailoverRequest.State.APPROVED && latch != null && latch.hasLeadership() && holdsOwnMemberNode()
                && handled.add(r.id() + "/done")) {
            // the placement is of this incarnation: the session whose member znode the others see
            long session = memberNode.ownedSession;
            requests.execute(() -> writeRequest(r.with(FailoverRequest.State.DONE, null, null).placedAt(nodeName, session), version));
        }
    }

    private void answer(FailoverRequest r, int version) {
        Optional<NodeOperationRefusedException> refusal;
        boolean isDrained;
        boolean member;
        synchronized (lock) {
            isDrained = drained.contains(nodeName);
            member = holdsOwnMemberNode();
        }
        if (!member) {
            refusal = Optional.of(new NodeOperationRefusedException(NodeOperationRefusedException.Reason.UNHEALTHY, nodeName,
                    "node " + nodeName + " does not hold its member znode (another ZooKeeper session holds it, or it is being registered again)"));
        } else if (isDrained) {
            refusal = Optional.of(new NodeOperationRefusedException(NodeOperationRefusedException.Reason.DRAINED, nodeName,
                    "node " + nodeName + " is drained; resume it first"));
        } else {
            try {
                refusal = takeoverCheck.check(r.requiredSequence());
            } catch (RuntimeException e) {
                refusal = Optional.of(new NodeOperationRefusedException(NodeOperationRefusedException.Reason.UNHEALTHY, nodeName,
                        "node " + nodeName + " could not check itself: " + e));
            }
        }
        FailoverRequest verdict = refusal.map(e -> r.with(FailoverRequest.State.REFUSED, e.reason().name(), e.getMessage()))
                .orElseGet(() -> r.with(FailoverRequest.State.APPROVED, null, null));
        synchronized (lock) {
            verdict = carried(verdict);
        }
        writeRequest(verdict, version);
    }

    /** Replaces the request only if nobody changed it since {@code version} (a cancelled or newer request wins). */
    private void writeRequest(FailoverRequest r, int version) {
        try {
            client.setData().withVersion(version).forPath(requestPath, r.encode());
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException superseded) {
            LOG.info("failover request {} changed before node {} could mark it {}", r.id(), nodeName, r.state());
        } catch (Exception e) {
            LOG.warn("node {} could not mark failover request {} {}", nodeName, r.id(), r.state(), e);
        }
    }

    /** The live nodes that may hold the role: not drained, not a tool's connection. Lock held. */
    private Set<String> able() {
        Set<String> able = new TreeSet<>(live);
        able.removeAll(drained);
        able.removeAll(nonCandidates);
        return able;
    }

    private int rank(String node, String placed) {
        if (node.equals(placed)) {
            return -1;
        }
        int i = affinity.indexOf(node);
        return i < 0 ? affinity.size() : i;
    }

    /**
     * Joins or leaves the election as node affinity demands. A node takes part while no live
     * candidate ranks before it, and joins only if no live node at all ranks before it (or it is a
     * candidate already). So the most preferred live node leads; a less preferred primary steps
     * down only once the preferred node is a candidate (leadership passes straight to it); and when
     * the primary leaves, only the most preferred remaining node joins. Drained nodes never take
     * part; a node placed by a failover ranks first, and while its request is APPROVED it is the
     * only one eligible. Called with the lock held.
     */
    private void updateEligibility(Set<String> candidateNames) {
        String placed = placed();
        Set<String> able = able();
        int bestCandidate = able.stream().filter(candidateNames::contains).mapToInt(n -> rank(n, placed)).min().orElse(Integer.MAX_VALUE);
        int bestLive = able.stream().mapToInt(n -> rank(n, placed)).min().orElse(Integer.MAX_VALUE);
        int mine = rank(nodeName, placed);
        boolean eligible = able.contains(nodeName) && mine <= bestCandidate && (mine <= bestLive || latch != null);
        if (placed != null && request.state() == FailoverRequest.State.APPROVED) {
            eligible = nodeName.equals(placed);
        }
        eligible &= candidate && holdsOwnMemberNode();
        try {
            if (eligible && latch == null) {
                latch = new LeaderLatch(client, layout.election, nodeName);
                // becoming leader completes an APPROVED request addressed to this node
                latch.addListener(new LeaderLatchListener() {
                    @Override
                    public void isLeader() {
                        // not here: Curator calls this on ZooKeeper's event thread holding the latch's monitor, and
                        // recompute() holds our lock while it closes a latch (which takes that monitor): the two
                        // orders would deadlock the event thread, and with it every answer of the session
                        try {
                            requests.execute(() -> {
                                synchronized (lock) {
                                    if (!closed) {
                                        serveRequest();
                                    }
                                }
                            });
                        } catch (java.util.concurrent.RejectedExecutionException closing) {
                            // the membership is closing: no request to serve
                        }
                    }

                    @Override
                    public void notLeader() {
                    }
                });
                latch.start();
            } else if (!eligible && latch != null) {
                LOG.info("node {} leaves the primary election (drained {}, failover request {}, affinity {})", nodeName, drained,
                        request, affinity);
                LeaderLatch old = latch;
                latch = null;
                old.close();
            }
        } catch (Exception e) {
            LOG.warn("node {} could not change its election participation", nodeName, e);
        }
    }

    // ---- administrator-initiated failover and drain ----------------------------------------------------

    /** Whether {@code node} is one this cluster has known: live, seen, or named by nodeAffinity. Lock held. */
    private boolean known(String node) {
        return live.contains(node) || everSeen.contains(node) || affinity.contains(node);
    }

    /**
     * Asks {@code target} (or the most preferred other live, undrained node) to take over and waits
     * until it has, it refused, or {@code timeoutMs} passed.
     */
    String failover(Optional<String> target, long requiredSequence, long timeoutMs) {
        FailoverRequest asked;
        int version;
        synchronized (lock) {
            String to = target.orElseGet(this::chooseTarget);
            if (!known(to)) {
                throw refused(NodeOperationRefusedException.Reason.UNKNOWN_NODE, to, "node " + to + " is not known to the cluster (live: " + live
                        + ", seen: " + new TreeSet<>(everSeen) + ", nodeAffinity: " + affinity + ")");
            }
            if (!live.contains(to)) {
                throw refused(NodeOperationRefusedException.Reason.NOT_UP, to, "node " + to + " is DOWN (live: " + live + ")");
            }
            if (drained.contains(to)) {
                throw refused(NodeOperationRefusedException.Reason.DRAINED, to, "node " + to + " is drained; resume it first");
            }
            if (nonCandidates.contains(to)) {
                throw refused(NodeOperationRefusedException.Reason.NOT_CANDIDATE, to, "node " + to
                        + " never takes the primary role (it was opened with primaryCandidate=false, as an administrator's tool is)");
            }
            if (to.equals(primary)) {
                throw refused(NodeOperationRefusedException.Reason.ALREADY_PRIMARY, to, "node " + to + " is the primary already");
            }
            if (request != null && (request.state() == FailoverRequest.State.PENDING || request.state() == FailoverRequest.State.APPROVED)
                    && live.contains(request.target())) {
                throw refused(NodeOperationRefusedException.Reason.IN_PROGRESS, request.target(), "a failover to " + request.target()
                        + " is still " + request.state() + " (request " + request.id() + ")");
            }
            // the request replaces the one in the znode, so it carries the placement that one holds
            Placement now = request == null ? null : request.carriedPlacement();
            asked = carried(new FailoverRequest(Long.toHexString(ThreadLocalRandom.current().nextLong()), to, primary,
                    requiredSequence, FailoverRequest.State.PENDING, null, null, now == null ? null : now.node(), now == null ? 0 : now.session()));
            version = requestVersion;
        }
        try {
            if (version < 0) {
                client.create().creatingParentsIfNeeded().forPath(requestPath, asked.encode());
            } else {
                client.setData().withVersion(version).forPath(requestPath, asked.encode());
            }
        } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException raced) {
            // Curator retries a write whose answer a connection loss took: the retry then meets our own request
            if (!holdsRequest(asked.id())) {
                throw refused(NodeOperationRefusedException.Reason.IN_PROGRESS, asked.target(), "another failover request was written at the same time");
            }
        } catch (Exception e) {
            throw new RegistryUnavailableException("could not write the failover request " + requestPath + ": " + e, e);
        }
        FailoverRequest seen = awaitRequest(asked.id(), timeoutMs);
        if (seen != null && seen.state() == FailoverRequest.State.DONE) {
            return asked.target();
        }
        if (seen != null && seen.state() == FailoverRequest.State.REFUSED) {
            throw refused(NodeOperationRefusedException.Reason.valueOf(seen.reason()), asked.target(), seen.detail());
        }
        FailoverRequest reached = cancel(asked.id());
        if (reached != null && reached.state() == FailoverRequest.State.DONE) {
            return asked.target(); // finished while the wait ended: not cancelled
        }
        if (reached != null && reached.state() == FailoverRequest.State.REFUSED) {
            throw refused(NodeOperationRefusedException.Reason.valueOf(reached.reason()), asked.target(), reached.detail());
        }
        String was = reached == null ? "replaced by another request" : reached.state().name();
        throw refused(NodeOperationRefusedException.Reason.TIMED_OUT, asked.target(), "failover to " + asked.target() + " did not complete within "
                + timeoutMs + " ms (option failoverTimeout); the request was " + was + " and is cancelled"
                + (was.equals("PENDING") ? ": the target did not answer its validation" : ""));
    }

    /** Whether the request znode holds the request {@code id} (in any state): read from the server, not the cache. */
    private boolean holdsRequest(String id) {
        try {
            byte[] data = client.getData().forPath(requestPath);
            return data != null && FailoverRequest.parse(data).id().equals(id);
        } catch (Exception e) {
            throw new RegistryUnavailableException("could not read back the failover request " + requestPath + ": " + e, e);
        }
    }

    /** The most preferred node other than the primary that may hold the role. Lock held. */
    private String chooseTarget() {
        String placed = placed();
        return able().stream().filter(n -> !n.equals(primary))
                .min(Comparator.<String>comparingInt(n -> rank(n, placed)).thenComparing(Comparator.naturalOrder()))
                .orElseThrow(() -> refused(NodeOperationRefusedException.Reason.NO_TARGET, null, "no node can take over from primary " + primary
                        + ": live " + live + ", drained " + drained + ", not candidates " + nonCandidates));
    }

    /** Waits until request {@code id} is DONE or REFUSED; null when the time ran out or another request replaced it. */
    private FailoverRequest awaitRequest(String id, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        boolean seenOurs = false;
        synchronized (lock) {
            while (true) {
                FailoverRequest r = request;
                boolean ours = r != null && r.id().equals(id);
                if (ours && (r.state() == FailoverRequest.State.DONE || r.state() == FailoverRequest.State.REFUSED)) {
                    return r;
                }
                seenOurs |= ours;
                long left = deadline - System.nanoTime();
                // until our write reaches this node's cache, the request it shows is the one we replaced
                if (closed || left <= 0 || seenOurs && !ours) {
                    return null;
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
    }

    /**
     * Cancels request {@code id} if it is still unfinished, against the version the server holds (the
     * cache may not have seen the target's answer yet); returns the request as it was when cancelled or
     * found finished, or null when another request replaced it.
     */
    private FailoverRequest cancel(String id) {
        for (int attempt = 0; attempt < 10; attempt++) {
            org.apache.zookeeper.data.Stat stat = new org.apache.zookeeper.data.Stat();
            FailoverRequest r;
            try {
                r = FailoverRequest.parse(client.getData().storingStatIn(stat).forPath(requestPath));
            } catch (KeeperException.NoNodeException gone) {
                return null;
            } catch (Exception e) {
                throw new RegistryUnavailableException("could not read the failover request " + requestPath + " to cancel it: " + e, e);
            }
            if (!r.id().equals(id)) {
                return null;
            }
            if (r.state() != FailoverRequest.State.PENDING && r.state() != FailoverRequest.State.APPROVED) {
                return r; // finished: done, refused, or cancelled (by a retry of our own write whose answer was lost)
            }
            try {
                FailoverRequest cancelled;
                synchronized (lock) {
                    cancelled = carried(r.with(FailoverRequest.State.CANCELLED, null, null));
                }
                client.setData().withVersion(stat.getVersion()).forPath(requestPath, cancelled.encode());
                return r;
            } catch (KeeperException.BadVersionException moved) {
                // the target answered meanwhile: read it again
            } catch (Exception e) {
                throw new RegistryUnavailableException("could not cancel the failover request " + requestPath + ": " + e, e);
            }
        }
        throw new RegistryUnavailableException("the failover request " + requestPath + " kept changing while it was being cancelled", null);
    }

    /** Keeps {@code node} out of the election until resumed; waits (bounded) until it no longer holds the role. */
    void drain(String node, long timeoutMs) {
        boolean server;
        synchronized (lock) {
            server = !known(node) && servers.configured().contains(node);
        }
        if (server) {
            drainServer(node);
            awaitView(() -> drainedServers.contains(node), timeoutMs, node, () -> "ZooKeeper server " + node + " is not seen as drained");
            return;
        }
        synchronized (lock) {
            if (!known(node)) {
                throw refused(NodeOperationRefusedException.Reason.UNKNOWN_NODE, node, "node " + node + " is not known to the cluster (live: " + live
                        + ", seen: " + new TreeSet<>(everSeen) + ", nodeAffinity: " + affinity + ")");
            }
            if (able().stream().noneMatch(n -> !n.equals(node))) {
                throw refused(NodeOperationRefusedException.Reason.NO_TARGET, node, "no other node is up, undrained and a primary candidate to take over from "
                        + node + " (live " + live + ", drained " + drained + ", not candidates " + nonCandidates + ")");
            }
        }
        try {
            client.create().creatingParentsIfNeeded().forPath(drainedDir + "/" + ZnodeLayout.escape(node), node.getBytes(StandardCharsets.UTF_8));
        } catch (KeeperException.NodeExistsException already) {
            // drained before: draining again only waits for the role to leave it
        } catch (Exception e) {
            throw new RegistryUnavailableException("could not drain " + node + ": " + e, e);
        }
        FailoverRequest placement;
        int version;
        synchronized (lock) {
            placement = request;
            version = requestVersion;
        }
        if (placement != null && placement.placement() != null && node.equals(placement.placement().node())
                && placement.state() != FailoverRequest.State.PENDING
                && placement.state() != FailoverRequest.State.APPROVED) {
            // a drained node gives up its failover placement: resuming it must not pull the role back. A request
            // still in flight is left to its target (rewriting it would lose the target's answer): whoever writes
            // it next drops the placement of a drained node (carried)
            writeRequest((placement.state() == FailoverRequest.State.DONE ? placement.with(FailoverRequest.State.CANCELLED, null, null) : placement)
                    .placedAt(null, 0), version);
        }
        // another node holds the role (one could: drain refuses otherwise), not merely nobody during the handover
        awaitView(() -> drained.contains(node) && primary != null && !node.equals(primary), timeoutMs, node, () -> "node " + node
                + " is drained but still " + (node.equals(primary) ? "the primary" : primary == null ? "waiting for another primary" : "not seen as drained"));
    }

    /**
     * Waits (bounded) until this registry's view of membership shows what an operation wrote, so the
     * caller's next call sees it. Lock not held; {@code condition} and {@code still} run with it.
     */
    private void awaitView(java.util.function.BooleanSupplier condition, long timeoutMs, String node, java.util.function.Supplier<String> still) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (lock) {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (closed || left <= 0) {
                    throw refused(NodeOperationRefusedException.Reason.TIMED_OUT, node, still.get() + " after " + timeoutMs + " ms (option failoverTimeout)");
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RegistryUnavailableException("interrupted while waiting for " + node, e);
                }
            }
        }
    }

    /**
     * Takes a ZooKeeper server out of every registry's server list: each registry that names it moves
     * its connection to another of its servers when it sees {@code drained-servers/{server}}.
     */
    private void drainServer(String server) {
        synchronized (lock) {
            Set<String> left = new TreeSet<>(servers.configured());
            left.removeAll(drainedServers);
            left.remove(server);
            if (left.isEmpty()) {
                throw refused(NodeOperationRefusedException.Reason.NO_TARGET, server, "no other server to connect to once ZooKeeper server " + server
                        + " is drained: this registry's URI names " + servers.configured() + ", drained " + drainedServers);
            }
        }
        try {
            client.create().creatingParentsIfNeeded().forPath(drainedServersDir + "/" + ZnodeLayout.escape(server), server.getBytes(StandardCharsets.UTF_8));
        } catch (KeeperException.NodeExistsException already) {
            // drained before
        } catch (Exception e) {
            throw new RegistryUnavailableException("could not drain ZooKeeper server " + server + ": " + e, e);
        }
    }

    /** Lets a drained node take part in the election again, or lets registries connect to a drained server again. */
    void resume(String node, long timeoutMs) {
        boolean server;
        synchronized (lock) {
            server = !drained.contains(node) && drainedServers.contains(node);
        }
        if (server) {
            delete(drainedServersDir + "/" + ZnodeLayout.escape(node), "ZooKeeper server " + node);
            awaitView(() -> !drainedServers.contains(node), timeoutMs, node, () -> "ZooKeeper server " + node + " is still seen as drained");
            return;
        }
        synchronized (lock) {
            if (!drained.contains(node)) {
                boolean exists = known(node) || servers.configured().contains(node);
                throw refused(exists ? NodeOperationRefusedException.Reason.NOT_DRAINED : NodeOperationRefusedException.Reason.UNKNOWN_NODE, node,
                        "node " + node + " is not drained (drained: " + drained + ", drained ZooKeeper servers: " + drainedServers + ")");
            }
        }
        delete(drainedDir + "/" + ZnodeLayout.escape(node), node);
        awaitView(() -> !drained.contains(node), timeoutMs, node, () -> "node " + node + " is still seen as drained");
    }

    private void delete(String path, String what) {
        try {
            client.delete().forPath(path);
        } catch (KeeperException.NoNodeException raced) {
            // resumed by someone else meanwhile
        } catch (Exception e) {
            throw new RegistryUnavailableException("could not resume " + what + ": " + e, e);
        }
    }

    private static NodeOperationRefusedException refused(NodeOperationRefusedException.Reason reason, String node, String message) {
        return new NodeOperationRefusedException(reason, node, message);
    }

    boolean isPrimary() {
        synchronized (lock) {
            return latch != null && latch.hasLeadership();
        }
    }

    Optional<String> primary() {
        synchronized (lock) {
            return Optional.ofNullable(primary);
        }
    }

    Set<String> live() {
        synchronized (lock) {
            return live;
        }
    }

    List<NodeInfo> nodes() {
        synchronized (lock) {
            Map<String, NodeState> states = new TreeMap<>();
            for (String n : affinity) {
                states.put(n, NodeState.DOWN);
            }
            for (String n : everSeen) {
                states.put(n, NodeState.DOWN);
            }
            for (String n : live) {
                states.put(n, drained.contains(n) ? NodeState.PAUSED : NodeState.UP);
            }
            List<NodeInfo> out = new ArrayList<>();
            states.forEach((n, s) -> out.add(new NodeInfo(n, s)));
            return out;
        }
    }

    Subscription addListener(MembershipListener listener) {
        ListenerSub s = new ListenerSub(listener);
        listeners.add(s);
        return s;
    }

    @Override
    public void close() {
        LeaderLatch l;
        synchronized (lock) {
            closed = true;
            l = latch;
            latch = null;
        }
        for (ListenerSub s : listeners) {
            s.close();
        }
        requests.shutdownNow();
        delivery.shutdownNow();
        try {
            if (l != null) {
                l.close();
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the leader latch", e);
        }
        memberNode.close();
        cache.close();
    }

    /**
     * This registry's ephemeral member znode. Curator's PersistentNode, used before, took a node it
     * found existing as its own (it set its data on another session's node), so a second registry
     * with the same nodeName went unnoticed, and closing it deleted the first one's node. This one
     * creates the node only where no other session holds it, judging by the node's ephemeral owner
     * against the session of the same raw ZooKeeper handle it calls with:
     * <ul>
     * <li>opening waits (bounded, see {@link #start}) for a node another session holds: a process
     * restarted after a crash finds its old session's node until the server expires that session;
     * then it refuses with {@link ZooKeeperNodeNameInUseException};</li>
     * <li>on a new session (after an expiry) and whenever the node is deleted it creates the node
     * again; if another session holds it by then, it never takes it over: it logs an ERROR once and
     * watches the node until it is free;</li>
     * <li>{@link #close} deletes the node only if the current session owns it, at the version it read.</li>
     * </ul>
     * All ZooKeeper calls but close's run on one thread of its own, never on ZooKeeper's event thread.
     */
    private final class MemberNode implements org.apache.zookeeper.Watcher, org.apache.curator.framework.state.ConnectionStateListener {
        /** Added to a session timeout T: T/2 covers the server's expiry granularity (tickTime, at most T/2), 1 s the close of the session. */
        private static final long MARGIN_MS = 1_000;

        private final String path;
        private final byte[] data;
        private final List<org.apache.zookeeper.data.ACL> acl;
        private final int sessionTimeoutMs;
        private final java.util.concurrent.ScheduledExecutorService worker;
        // guarded by this
        /** The session whose node this is (0 while there is none of ours). */
        private volatile long ownedSession;
        /** Sessions this registry has had its node on: after an expiry the server keeps the old one's node a while. */
        private final Set<Long> ownSessions = new HashSet<>();
        /** The other session that held the node when last looked at (0: none), since when, and how long it may hold it after a crash. */
        private long heldBy;
        private long heldSince;
        private long holdBoundMs;
        /** Whether start() succeeded: a conflict after that is logged, not thrown. */
        private boolean started;
        private boolean conflictLogged;
        private boolean stopped;
        /**
         * Sessions whose registry in this process holds its member znode: a node held by one of them
         * is held by a live registry, so opening is refused at once instead of after the crash bound.
         */
        private static final Set<Long> HELD_IN_THIS_PROCESS = java.util.concurrent.ConcurrentHashMap.newKeySet();

        MemberNode(String path, byte[] data, List<org.apache.zookeeper.data.ACL> acl, int sessionTimeoutMs) {
            this.path = path;
            this.data = data;
            // not List.copyOf: ZooKeeper's ACL validation asks contains(null), which an immutable list answers with an exception
            this.acl = Collections.unmodifiableList(new ArrayList<>(acl));
            this.sessionTimeoutMs = sessionTimeoutMs;
            this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "zookeeper-membership-member");
                t.setDaemon(true);
                return t;
            });
        }

        /**
         * Creates the node, waiting while another session holds it. ZooKeeper answering is bounded by
         * {@code timeoutMs}, as the rest of opening. A node another session holds is waited for by its own
         * bound instead: the session timeout T and a margin, T + T/2 + 1 s, where T is the larger of the
         * sessionTimeout option and the timeout the server granted (the crashed process had the same
         * options), counted from when the node was first found held. Why not bounded by {@code timeoutMs}
         * too: that is max(connectionTimeout, 5 s), a bound on ZooKeeper's answers, while a crashed
         * process's session lives T (10 s by default) after its last heartbeat; capped by it, a process
         * restarted at once after a kill -9 would fail to open with the default options. Only once that
         * bound passed is the holder known to be alive: a second registry with this nodeName, a
         * configuration mistake rather than an outage to retry.
         */
        void start(long timeoutMs) throws InterruptedException {
            client.getConnectionStateListenable().addListener(this);
            run();
            long startDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            synchronized (this) {
                while (ownedSession == 0) {
                    // held: ZooKeeper answered, the wait is for the holder alone (heldBy stays set until the node is ours or another's)
                    long deadline = heldBy == 0 ? startDeadline : heldSince + TimeUnit.MILLISECONDS.toNanos(holdBoundMs);
                    long left = deadline - System.nanoTime();
                    if (heldBy != 0 && HELD_IN_THIS_PROCESS.contains(heldBy)) {
                        throw new ZooKeeperNodeNameInUseException("nodeName \"" + nodeName + "\" is in use on " + layout.chroot
                                + ": another open registry of this process (ZooKeeper session 0x" + Long.toHexString(heldBy) + ") holds its member"
                                + " znode " + path + ". Give every registry a unique nodeName on the chroot (option nodeName), or open one"
                                + " factory for several entity types (Persistence.openFactory) instead of one per type", nodeName, layout.chroot, heldBy);
                    }
                    if (left <= 0) {
                        if (heldBy != 0 && client.getZookeeperClient().isConnected()) {
                            throw new ZooKeeperNodeNameInUseException("nodeName \"" + nodeName + "\" is in use on " + layout.chroot
                                    + ": another open registry (ZooKeeper session 0x" + Long.toHexString(heldBy) + ") holds its member znode " + path
                                    + ", and still did after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - heldSince)
                                    + " ms (the sessionTimeout and a margin: longer than a crashed process's node outlives it). Give every process"
                                    + " a unique nodeName on the chroot (option nodeName), or close the other registry first",
                                    nodeName, layout.chroot, heldBy);
                        }
                        // the server did not take the create in time (a stalled connection, an election): retryable, as opening is
                        throw new RegistryUnavailableException("node " + nodeName + " could not register under " + layout.members + " within "
                                + timeoutMs + " ms; ZooKeeper did not answer in time", null);
                    }
                    wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
                started = true;
            }
        }

        /** Another attempt, on the worker. */
        private void run() {
            try {
                worker.execute(this::ensure);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // closed
            }
        }

        /** Creates the node unless it is ours already or another session holds it (then watches it). On the worker. */
        private void ensure() {
            synchronized (this) {
                if (stopped) {
                    return;
                }
            }
            try {
                // the raw handle: one handle is one session, so the id it reports after a call is the session the call ran
                // in (Curator replaces the handle on expiry); and Curator does not retry its calls: a RECONNECTED brings us back
                org.apache.zookeeper.ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
                for (int attempt = 0; attempt < 10; attempt++) {
                    try {
                        zk.create(path, data, acl, CreateMode.EPHEMERAL);
                    } catch (KeeperException.NodeExistsException exists) {
                        // ours already (created before a lost answer), or another session's: its owner tells
                    }
                    // watch it: a deletion (the holder gone, or someone deleting ours) brings us back
                    org.apache.zookeeper.data.Stat stat = zk.exists(path, this);
                    if (stat == null) {
                        continue; // deleted meanwhile
                    }
                    long session = zk.getSessionId(); // read after the calls: before the handle's first connection it is 0
                    if (stat.getEphemeralOwner() == session) {
                        owned(session);
                    } else {
                        heldBy(stat.getEphemeralOwner(), Math.max(sessionTimeoutMs, zk.getSessionTimeout()));
                    }
                    recompute(); // whether this node may take part in the election changed with it (outside this node's monitor)
                    return;
                }
                retryLater("it kept being deleted and created", null);
            } catch (KeeperException.ConnectionLossException | KeeperException.SessionExpiredException | KeeperException.SessionMovedException lost) {
                LOG.debug("node {} could not register {} for now: {}; again on reconnect", nodeName, path, lost.toString());
            } catch (InterruptedException closing) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                retryLater(e.toString(), e);
            }
        }

        private void retryLater(String why, Exception e) {
            LOG.warn("node {} could not register its member znode {}: {}; trying again in a second", nodeName, path, why, e);
            try {
                worker.schedule(this::ensure, 1, TimeUnit.SECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // closed
            }
        }

        private synchronized void owned(long session) {
            if (conflictLogged) {
                LOG.info("node {} registered its member znode {} again (session 0x{})", nodeName, path, Long.toHexString(session));
            }
            conflictLogged = false;
            if (ownedSession != 0 && ownedSession != session) {
                HELD_IN_THIS_PROCESS.remove(ownedSession);
            }
            ownedSession = session;
            if (!stopped) {
                HELD_IN_THIS_PROCESS.add(session);
            }
            ownSessions.add(session);
            heldBy = 0;
            notifyAll();
        }

        private synchronized void heldBy(long owner, long sessionTimeout) {
            HELD_IN_THIS_PROCESS.remove(ownedSession);
            ownedSession = 0;
            if (owner != heldBy) {
                heldBy = owner;
                heldSince = System.nanoTime();
                holdBoundMs = sessionTimeout + sessionTimeout / 2 + MARGIN_MS;
            }
            if (ownSessions.contains(owner)) {
                // this registry's own expired session: the server removes its node soon (its session timeout)
                LOG.info("node {} waits for its member znode {} of its expired session 0x{} to go", nodeName, path, Long.toHexString(owner));
            } else if (started && !conflictLogged) {
                conflictLogged = true;
                LOG.error("node {}: its member znode {} is held by another ZooKeeper session 0x{}, another open registry with nodeName \"{}\" on {}:"
                        + " this registry does not take it over, and takes no part in the primary election, until the node is free again; give every process"
                        + " a unique nodeName", nodeName, path, Long.toHexString(owner), nodeName, layout.chroot);
            }
            notifyAll();
        }

        @Override
        public void process(org.apache.zookeeper.WatchedEvent event) {
            if (event.getType() != org.apache.zookeeper.Watcher.Event.EventType.None) {
                run();
            }
        }

        @Override
        public void stateChanged(CuratorFramework c, org.apache.curator.framework.state.ConnectionState state) {
            // a new session after an expiry (RECONNECTED after LOST) has no node of ours yet; any reconnect is checked
            if (state == org.apache.curator.framework.state.ConnectionState.CONNECTED
                    || state == org.apache.curator.framework.state.ConnectionState.RECONNECTED) {
                run();
            }
        }

        /** Deletes the node if the current session owns it: never one another session created. */
        void close() {
            synchronized (this) {
                stopped = true;
                HELD_IN_THIS_PROCESS.remove(ownedSession);
                notifyAll();
            }
            client.getConnectionStateListenable().removeListener(this);
            worker.shutdownNow();
            try {
                // a create in flight must not land after the delete below (the session's end would remove it, later)
                if (!worker.awaitTermination(1, TimeUnit.SECONDS)) {
                    LOG.debug("node {}: registering its member znode did not stop within 1 s", nodeName);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // the node is ephemeral: the session's end removes it, deleting it first only tells the others sooner.
            // With no server reachable a delete would wait in the foreground and hold up close()
            if (!client.getZookeeperClient().isConnected()) {
                return;
            }
            try {
                org.apache.zookeeper.ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
                org.apache.zookeeper.data.Stat stat = zk.exists(path, false);
                if (stat != null && stat.getEphemeralOwner() == zk.getSessionId()) {
                    zk.delete(path, stat.getVersion());
                }
            } catch (KeeperException.NoNodeException | KeeperException.BadVersionException changed) {
                LOG.debug("node {}: its member znode {} changed while closing; left as it is", nodeName, path);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.debug("deleting the member znode {}", path, e);
            }
        }
    }

    /** Delivers one listener's events from its own thread, in order. */
    private final class ListenerSub implements Subscription {
        private final MembershipListener listener;
        private final ExecutorService thread;

        ListenerSub(MembershipListener listener) {
            this.listener = listener;
            this.thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "zookeeper-membership-listener");
                t.setDaemon(true);
                return t;
            });
        }

        void offer(MembershipEvent e) {
            try {
                thread.execute(() -> {
                    try {
                        listener.onEvent(e);
                    } catch (Exception | Error ex) {
                        // logged like any other failure, not by the executor's thread dying on it
                        LOG.warn("membership listener {} threw", listener, ex);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // unsubscribed
            }
        }

        @Override
        public void close() {
            listeners.remove(this);
            thread.shutdown();
        }
    }

    /** A node placed by a failover, in its incarnation {@code session} (0: any). */
    record Placement(String node, long session) {
    }

    /**
     * The latest administrator's failover request, as stored in {@code cluster/failover}: one
     * {@code key=value} per line.
     *
     * @param requiredSequence the commit sequence the asking registry had seen; the target must have seen it too
     * @param from             the primary when it was asked, or null
     * @param reason           a {@link NodeOperationRefusedException.Reason} name when REFUSED
     * @param placed           the node a failover placed: an earlier one's, in effect until this request is DONE,
     *                         then this one's target; null for none (and in requests written before it was kept)
     * @param placedSession    the session of the placed node's member znode when it was placed (0: any)
     */
    record FailoverRequest(String id, String target, String from, long requiredSequence, State state, String reason, String detail,
                           String placed, long placedSession) {

        enum State { PENDING, APPROVED, REFUSED, DONE, CANCELLED }

        FailoverRequest with(State newState, String newReason, String newDetail) {
            return new FailoverRequest(id, target, from, requiredSequence, newState, newReason, newDetail, placed, placedSession);
        }

        FailoverRequest placedAt(String node, long session) {
            return new FailoverRequest(id, target, from, requiredSequence, state, reason, detail, node, session);
        }

        /**
         * The node that ranks first while this request is in the znode, or null: its target while APPROVED
         * (whichever incarnation), the one placed when DONE (its target) or carried otherwise.
         */
        Placement placement() {
            if (state == State.APPROVED || state == State.DONE && placed == null) {
                return new Placement(target, 0);
            }
            return placed == null ? null : new Placement(placed, placedSession);
        }

        /**
         * The placement a request that replaces this one carries: that of the last completed move, never the target
         * of this request while APPROVED (it ranks first only while this request stands; carried as a placement of any
         * incarnation, a target that died before leading would take the role at its next start, whatever became of
         * the request that replaced this one).
         */
        Placement carriedPlacement() {
            if (state == State.APPROVED) {
                return placed == null ? null : new Placement(placed, placedSession);
            }
            return placement();
        }

        byte[] encode() {
            StringBuilder b = new StringBuilder();
            b.append("id=").append(id).append('\n').append("target=").append(target).append('\n')
                    .append("requiredSequence=").append(requiredSequence).append('\n').append("state=").append(state).append('\n');
            if (from != null) {
                b.append("from=").append(from).append('\n');
            }
            if (placed != null) {
                b.append("placed=").append(placed).append('\n').append("placedSession=").append(Long.toHexString(placedSession)).append('\n');
            }
            if (reason != null) {
                b.append("reason=").append(reason).append('\n').append("detail=").append(detail.replace('\n', ' ')).append('\n');
            }
            return b.toString().getBytes(StandardCharsets.UTF_8);
        }

        /** The request, or null when the znode holds something else (then it is ignored and may be overwritten). */
        static FailoverRequest parse(byte[] data) {
            Map<String, String> f = new java.util.HashMap<>();
            for (String line : new String(data, StandardCharsets.UTF_8).split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    f.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            try {
                return new FailoverRequest(Objects.requireNonNull(f.get("id")), Objects.requireNonNull(f.get("target")), f.get("from"),
                        Long.parseLong(f.get("requiredSequence")), State.valueOf(f.get("state")), f.get("reason"), f.get("detail"),
                        f.get("placed"), f.get("placedSession") == null ? 0 : Long.parseUnsignedLong(f.get("placedSession"), 16));
            } catch (RuntimeException e) {
                LOG.warn("ignoring an unreadable failover request: {}", e.toString());
                return null;
            }
        }
    }
}
