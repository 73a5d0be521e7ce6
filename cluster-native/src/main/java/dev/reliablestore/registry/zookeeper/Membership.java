package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.MembershipListener;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.Subscription;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
import java.util.concurrent.TimeUnit;

/**
 * Who is live and who is primary.
 *
 * <p>Every open registry keeps an ephemeral node {@code cluster/members/{node}} (a Curator
 * PersistentNode, so it is re-created after a session expiry). The primary is elected with a
 * Curator LeaderLatch on {@code cluster/election}. Node affinity is honoured by eligibility (see
 * {@link #updateEligibility}; nodes not in the list rank after every listed one), so the most
 * preferred live node becomes primary and a less preferred primary steps down when a preferred
 * one comes back. Both directories are
 * followed with one CuratorCache; {@link MembershipEvent}s are derived from it.
 */
final class Membership implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    private final CuratorFramework client;
    private final ZnodeLayout layout;
    private final String nodeName;
    private final List<String> affinity;
    private final PersistentNode memberNode;
    private final CuratorCache cache;
    private final List<ListenerSub> listeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private LeaderLatch latch;
    private Set<String> live = Set.of();
    private final Set<String> everSeen = new LinkedHashSet<>();
    private String primary;
    private boolean closed;

    Membership(CuratorFramework client, ZnodeLayout layout, String nodeName, List<String> affinity) {
        this.client = client;
        this.layout = layout;
        this.nodeName = nodeName;
        this.affinity = affinity;
        this.memberNode = new PersistentNode(client, CreateMode.EPHEMERAL, false, layout.members + "/" + ZnodeLayout.escape(nodeName),
                nodeName.getBytes(StandardCharsets.UTF_8));
        this.cache = CuratorCache.build(client, layout.chroot + "/cluster");
        this.cache.listenable().addListener((type, oldData, data) -> recompute());
    }

    /** Starts and waits (bounded) until this node sees itself live. */
    void start(long timeoutMs) throws InterruptedException {
        cache.start();
        memberNode.start();
        if (!memberNode.waitForInitialCreate(timeoutMs, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("node " + nodeName + " could not register under " + layout.members + " within " + timeoutMs
                    + " ms (is another live registry using the same nodeName?)");
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (lock) {
            while (!live.contains(nodeName) && System.nanoTime() < deadline) {
                lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
        }
    }

    private void recompute() {
        List<MembershipEvent> events = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            Set<String> now = new TreeSet<>();
            TreeMap<Long, String> candidates = new TreeMap<>();
            String membersPrefix = layout.members + "/";
            String electionPrefix = layout.election + "/";
            for (ChildData d : cache.stream().toList()) {
                String path = d.getPath();
                if (path.startsWith(membersPrefix) && path.indexOf('/', membersPrefix.length()) < 0) {
                    now.add(ZnodeLayout.unescape(path.substring(membersPrefix.length())));
                } else if (path.startsWith(electionPrefix) && path.indexOf('/', electionPrefix.length()) < 0) {
                    int at = path.lastIndexOf("latch-");
                    if (at > 0 && d.getData() != null) {
                        try {
                            candidates.put(Long.parseLong(path.substring(at + 6)), new String(d.getData(), StandardCharsets.UTF_8));
                        } catch (NumberFormatException ignored) {
                            // not a latch node
                        }
                    }
                }
            }
            for (String n : now) {
                if (!live.contains(n)) {
                    events.add(new MembershipEvent.NodeStateChanged(n, everSeen.contains(n) ? NodeState.DOWN : NodeState.UNKNOWN, NodeState.UP));
                }
            }
            for (String n : live) {
                if (!now.contains(n)) {
                    events.add(new MembershipEvent.NodeStateChanged(n, NodeState.UP, NodeState.DOWN));
                }
            }
            everSeen.addAll(now);
            live = Set.copyOf(now);
            // the elected candidate only counts while its member node is live
            String newPrimary = candidates.values().stream().filter(live::contains).findFirst().orElse(null);
            if (!Objects.equals(newPrimary, primary)) {
                events.add(new MembershipEvent.PrimaryChanged(primary, newPrimary));
                primary = newPrimary;
            }
            updateEligibility(new java.util.HashSet<>(candidates.values()));
            lock.notifyAll();
        }
        for (MembershipEvent e : events) {
            for (ListenerSub s : listeners) {
                s.offer(e);
            }
        }
    }

    private int rank(String node) {
        int i = affinity.indexOf(node);
        return i < 0 ? affinity.size() : i;
    }

    /**
     * Joins or leaves the election as node affinity demands. A node takes part while no live
     * candidate ranks before it, and joins only if no live node at all ranks before it (or it is a
     * candidate already). So the most preferred live node leads; a less preferred primary steps
     * down only once the preferred node is a candidate (leadership passes straight to it); and when
     * the primary leaves, only the most preferred remaining node joins. Called with the lock held.
     */
    private void updateEligibility(Set<String> candidateNames) {
        int bestCandidate = live.stream().filter(candidateNames::contains).mapToInt(this::rank).min().orElse(Integer.MAX_VALUE);
        int bestLive = live.stream().mapToInt(this::rank).min().orElse(Integer.MAX_VALUE);
        int mine = rank(nodeName);
        boolean eligible = live.contains(nodeName) && mine <= bestCandidate && (mine <= bestLive || latch != null);
        try {
            if (eligible && latch == null) {
                latch = new LeaderLatch(client, layout.election, nodeName);
                latch.start();
            } else if (!eligible && latch != null) {
                LOG.info("node {} leaves the primary election: a node earlier in the affinity list {} is live", nodeName, affinity);
                LeaderLatch old = latch;
                latch = null;
                old.close();
            }
        } catch (Exception e) {
            LOG.warn("node {} could not change its election participation", nodeName, e);
        }
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
                states.put(n, NodeState.UP);
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
        try {
            if (l != null) {
                l.close();
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the leader latch", e);
        }
        try {
            memberNode.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the member node", e);
        }
        cache.close();
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
                    } catch (RuntimeException ex) {
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
}
