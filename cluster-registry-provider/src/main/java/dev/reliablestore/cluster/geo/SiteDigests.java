package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Range hashes of a site's entities, so that a resync reads only what differs (docs/geo-replication.md,
 * Operations). The entities of a type fall into {@link #RANGES} id ranges by a hash of their id; an
 * entity's hash is one of its id and its stamp (when and where it was written, the writes it includes,
 * whether it is a delete), and a range's digest one of the (id, hash) pairs in it. Two sites that hold
 * the same states of a range have the same digest, so the comparison goes ranges, then the entities of
 * the ranges that differ, then the values of the entities that differ. A stamp names one write, so the
 * value need not be hashed: the hashes carry nothing of what the sealed values hold.
 *
 * <p>Hashes are computed where the data is: a resync writes a request under {@link #key} (beside the
 * shipment ledger: bookkeeping, never shipped) and the site's shipper-lease holder, which looks there
 * every second, answers it from its own registry ({@link #answer}); only digests, the hashes of the
 * differing ranges and the differing values cross between the sites. A site nobody answers for (no
 * factory open there, or one from before range hashes) is read by the resync itself ({@link #read}).
 *
 * <p>Requests and answers are values of a key per request: {@code request} (an SZ: what is asked,
 * when, of which type), then the answer in chunks {@code answer.<i>} and last {@code answer} (a QWORD:
 * how many chunks), or {@code failed} (an SZ: why). Each answer write is conditioned on the request
 * still being there; the asker removes the key once it has read it, and the answerer removes what
 * was left longer ago than {@link #FORGET} (an asker that died).
 */
final class SiteDigests {

    private static final Logger LOG = LoggerFactory.getLogger(SiteDigests.class);

    /** Id ranges per type: 16 KiB of digests per type and site. */
    static final int RANGES = 1024;
    /** Bytes of an entity's hash and of a range's digest (a truncated SHA-256). */
    static final int HASH = 16;
    /** How long an answered or abandoned request may stay before its site's answerer removes it. */
    static final Duration FORGET = Duration.ofMinutes(10);
    /** Entities whose hashes one answer carries at most (some 50 bytes each): larger asks go in several requests. */
    static final int ENTRIES_PER_ANSWER = 20_000;
    private static final String REQUEST = "request";
    private static final String ANSWER = "answer";
    private static final String FAILED = "failed";
    private static final String RANGES_ASKED = "ranges";
    private static final String ENTRIES_ASKED = "entries";

    private SiteDigests() {
    }

    /** Where a site keeps the requests for its range hashes and their answers. */
    static RegistryPath key(StorageLayout layout) {
        return SiteReplication.ledgerKey(layout).parent().child("Digests");
    }

    /** The id range {@code id} falls in. */
    static int range(String id) {
        byte[] h = sha256().digest(id.getBytes(StandardCharsets.UTF_8));
        return ((h[0] & 0xff) << 8 | (h[1] & 0xff)) & (RANGES - 1);
    }

    /** The hash of {@code id} holding {@code state}: of its stamp and whether it is a delete, not of its value. */
    static byte[] hash(String id, SiteState state) {
        MessageDigest d = sha256();
        byte[] name = id.getBytes(StandardCharsets.UTF_8);
        d.update(ByteBuffer.allocate(4).putInt(name.length).array());
        d.update(name);
        d.update(state.stamp());
        d.update((byte) (state.deleted() ? 1 : 0));
        return Arrays.copyOf(d.digest(), HASH);
    }

    /**
     * What a site holds of one type, as the comparison sees it.
     *
     * @param entities its entities (values and tombstones)
     * @param digests  per id range that holds any, its digest
     * @param counts   per id range that holds any, how many
     */
    record Ranges(int entities, Map<Integer, byte[]> digests, Map<Integer, Integer> counts) {
        /** The ranges whose digests differ from {@code other}'s (one holding entities the other does not included). */
        Set<Integer> differing(Ranges other) {
            Set<Integer> out = new TreeSet<>(digests.keySet());
            out.addAll(other.digests.keySet());
            out.removeIf(r -> Arrays.equals(digests.get(r), other.digests.get(r)));
            return out;
        }
    }

    /** The ranges of the entities {@code hashes} (id → hash) holds. */
    static Ranges ranges(Map<String, byte[]> hashes) {
        Map<Integer, MessageDigest> open = new TreeMap<>();
        Map<Integer, Integer> counts = new TreeMap<>();
        // in id order, so that both sites feed each range's digest alike
        new TreeMap<>(hashes).forEach((id, h) -> {
            int range = range(id);
            MessageDigest d = open.computeIfAbsent(range, r -> sha256());
            counts.merge(range, 1, Integer::sum);
            byte[] name = id.getBytes(StandardCharsets.UTF_8);
            d.update(ByteBuffer.allocate(4).putInt(name.length).array());
            d.update(name);
            d.update(h);
        });
        Map<Integer, byte[]> digests = new TreeMap<>();
        open.forEach((r, d) -> digests.put(r, Arrays.copyOf(d.digest(), HASH)));
        return new Ranges(hashes.size(), digests, counts);
    }

    /** The hashes of {@code states}, by id. */
    static Map<String, byte[]> hashes(Map<String, SiteState> states) {
        Map<String, byte[]> out = new TreeMap<>();
        states.forEach((id, s) -> out.put(id, hash(id, s)));
        return out;
    }

    /** Of {@code hashes}, those of ids in {@code ranges}. */
    static Map<String, byte[]> within(Map<String, byte[]> hashes, Set<Integer> ranges) {
        Map<String, byte[]> out = new TreeMap<>();
        hashes.forEach((id, h) -> {
            if (ranges.contains(range(id))) {
                out.put(id, h);
            }
        });
        return out;
    }

    /** One site's side of the comparison. */
    interface View {
        /** The ranges the site holds of {@code type}. */
        Ranges ranges(String type);

        /** The hashes of the entities of {@code type} in {@code ranges}, by id. */
        Map<String, byte[]> entries(String type, Set<Integer> ranges);

        /** Whether the site's shipper-lease holder computed them (else the resync read the site). */
        boolean answered();

        /** The states the site holds of {@code ids} of {@code type} (an id it holds nothing of left out). */
        Map<String, SiteState> states(String type, java.util.Collection<String> ids);
    }

    /** A view that reads every entity of the site itself. */
    static View read(SiteReplication.Site site) {
        return new Read(site);
    }

    /**
     * A view answered by the site's shipper-lease holder when it has one, read otherwise — and read
     * from the first request that goes unanswered for {@code wait} on.
     */
    static View of(SiteReplication.Site site, Duration wait) {
        return of(site, wait, ENTRIES_PER_ANSWER);
    }

    /** {@link #of(SiteReplication.Site, Duration)}, asking for the hashes of at most {@code entriesPerAnswer} entities at a time. */
    static View of(SiteReplication.Site site, Duration wait, int entriesPerAnswer) {
        return leaseHeld(site) ? new Asked(site, wait, entriesPerAnswer) : new Read(site);
    }

    /** Whether a factory of the site holds its shipper lease now. */
    private static boolean leaseHeld(SiteReplication.Site site) {
        try {
            return site.registry().getValue(SiteReplication.leaseKey(site.layout()), SiteReplication.LEASE_VALUE)
                    .map(v -> Long.parseLong(v.value().asSz().split(" ", 2)[0]) > System.currentTimeMillis()).orElse(false);
        } catch (RuntimeException unreadable) {
            return false;
        }
    }

    private static final class Read implements View {
        private final SiteReplication.Site site;
        private final Map<String, Map<String, SiteState>> states = new HashMap<>();
        private final Map<String, Map<String, byte[]>> byType = new HashMap<>();

        Read(SiteReplication.Site site) {
            this.site = site;
        }

        private Map<String, byte[]> all(String type) {
            return byType.computeIfAbsent(type, t -> hashes(states.computeIfAbsent(t, x -> SiteResync.states(site, site.states(), x))));
        }

        @Override
        public Map<String, SiteState> states(String type, java.util.Collection<String> ids) {
            Map<String, SiteState> all = states.get(type);
            if (all == null) {
                return SiteResync.states(site, site.states(), type, ids);
            }
            Map<String, SiteState> out = new TreeMap<>();
            ids.forEach(id -> {
                if (all.containsKey(id)) {
                    out.put(id, all.get(id));
                }
            });
            return out;
        }

        @Override
        public Ranges ranges(String type) {
            return SiteDigests.ranges(all(type));
        }

        @Override
        public Map<String, byte[]> entries(String type, Set<Integer> ranges) {
            return within(all(type), ranges);
        }

        @Override
        public boolean answered() {
            return false;
        }
    }

    private static final class Asked implements View {
        private final SiteReplication.Site site;
        private final Duration wait;
        /** Set once a request goes unanswered: the site is read from then on. */
        private Read instead;
        /** Per type asked, the entities per range the site counted. */
        private final Map<String, Map<Integer, Integer>> counts = new HashMap<>();

        private final int perAnswer;

        Asked(SiteReplication.Site site, Duration wait, int perAnswer) {
            this.site = site;
            this.wait = wait;
            this.perAnswer = perAnswer;
        }

        @Override
        public Ranges ranges(String type) {
            if (instead == null) {
                Optional<ByteBuffer> answer = ask(RANGES_ASKED + " " + System.currentTimeMillis() + " " + type);
                if (answer.isPresent()) {
                    ByteBuffer in = answer.get();
                    int entities = in.getInt();
                    int n = in.getInt();
                    Map<Integer, byte[]> digests = new TreeMap<>();
                    Map<Integer, Integer> counts = new TreeMap<>();
                    for (int i = 0; i < n; i++) {
                        int r = in.getInt();
                        counts.put(r, in.getInt());
                        byte[] d = new byte[HASH];
                        in.get(d);
                        digests.put(r, d);
                    }
                    Ranges ranges = new Ranges(entities, digests, counts);
                    this.counts.put(type, counts);
                    return ranges;
                }
            }
            return instead.ranges(type);
        }

        @Override
        public Map<String, byte[]> entries(String type, Set<Integer> ranges) {
            // in requests of at most perAnswer entities (as the site counted them), so that no answer grows unbounded
            Map<Integer, Integer> counted = counts.getOrDefault(type, Map.of());
            Map<String, byte[]> out = new TreeMap<>();
            java.util.List<Integer> group = new java.util.ArrayList<>();
            long inGroup = 0;
            for (int r : ranges) {
                int n = counted.getOrDefault(r, 0);
                if (!group.isEmpty() && inGroup + n > perAnswer) {
                    out.putAll(entriesOf(type, group));
                    group.clear();
                    inGroup = 0;
                }
                group.add(r);
                inGroup += n;
            }
            if (!group.isEmpty()) {
                out.putAll(entriesOf(type, group));
            }
            return out;
        }

        private Map<String, byte[]> entriesOf(String type, java.util.List<Integer> ranges) {
            if (instead == null) {
                String list = ranges.stream().map(String::valueOf).collect(Collectors.joining(","));
                Optional<ByteBuffer> answer = ask(ENTRIES_ASKED + " " + System.currentTimeMillis() + " " + list + " " + type);
                if (answer.isPresent()) {
                    return decodeEntries(answer.get());
                }
            }
            return instead.entries(type, new TreeSet<>(ranges));
        }

        @Override
        public boolean answered() {
            return instead == null;
        }

        @Override
        public Map<String, SiteState> states(String type, java.util.Collection<String> ids) {
            return instead != null ? instead.states(type, ids) : SiteResync.states(site, site.states(), type, ids);
        }

        /** The answer to {@code request}; empty (and the site read from now on) when none came. */
        private Optional<ByteBuffer> ask(String request) {
            ClusterRegistry registry = site.registry();
            RegistryPath at = key(site.layout()).child(UUID.randomUUID().toString().replace("-", ""));
            java.util.concurrent.Semaphore changed = new java.util.concurrent.Semaphore(0);
            long deadline = System.nanoTime() + wait.toNanos();
            String why = "no answer within " + wait;
            Watch watch = null;
            try {
                watch = registry.watch(at, new ChangeListener() {
                    @Override
                    public void onBatch(ChangeBatch batch) {
                        changed.release();
                    }

                    @Override
                    public void onResync(String reason) {
                        changed.release();
                    }
                });
                registry.commit(WriteBatch.builder().setValue(at, REQUEST, RegistryValue.sz(request)).build());
                while (System.nanoTime() - deadline < 0) {
                    // the watch wakes the wait early; the read decides (and polls, should the watch miss the answer)
                    changed.tryAcquire(Math.min(200, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))),
                            TimeUnit.MILLISECONDS);
                    changed.drainPermits();
                    Map<String, VersionedValue> values = registry.values(at);
                    if (values.containsKey(FAILED)) {
                        why = values.get(FAILED).value().asSz();
                        break;
                    }
                    if (values.containsKey(ANSWER)) {
                        return Optional.of(joined(values, (int) values.get(ANSWER).value().asQword()));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                why = "interrupted";
            } catch (RegistryException e) {
                why = e.getMessage();
            } finally {
                if (watch != null) {
                    watch.close();
                }
                forget(registry, at);
            }
            LOG.warn("site {}: its shipper-lease holder did not compute range hashes ({}); the resync reads the site's entities itself",
                    site.name(), why);
            instead = new Read(site);
            return Optional.empty();
        }
    }

    private static ByteBuffer joined(Map<String, VersionedValue> values, int chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < chunks; i++) {
            VersionedValue chunk = values.get(ANSWER + "." + i);
            if (chunk == null) {
                throw new IllegalStateException("the range-hash answer lacks chunk " + i + " of " + chunks);
            }
            out.writeBytes(chunk.value().asBinary());
        }
        return ByteBuffer.wrap(out.toByteArray());
    }

    private static Map<String, byte[]> decodeEntries(ByteBuffer in) {
        int n = in.getInt();
        Map<String, byte[]> out = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            byte[] name = new byte[in.getInt()];
            in.get(name);
            byte[] h = new byte[HASH];
            in.get(h);
            out.put(new String(name, StandardCharsets.UTF_8), h);
        }
        return out;
    }

    private static void forget(ClusterRegistry registry, RegistryPath at) {
        try {
            registry.commit(WriteBatch.builder().deleteKey(at).build()); // nothing when never written or removed already
        } catch (RegistryException e) {
            LOG.debug("range-hash request {} not removed ({}); the site's answerer removes it after {}", at, e.getMessage(), FORGET);
        }
    }

    /**
     * Answers the range-hash requests waiting at {@code site}, from its own registry, and removes
     * those left longer ago than {@link #FORGET}; returns how many it answered. For the site's
     * shipper-lease holder.
     */
    static int answer(SiteReplication.Site site, LongSupplier wallMillis) {
        ClusterRegistry registry = site.registry();
        RegistryPath root = key(site.layout());
        java.util.List<String> requests;
        try {
            requests = registry.subkeys(root);
        } catch (NoSuchKeyException none) {
            return 0;
        }
        int answered = 0;
        Map<String, Map<String, byte[]>> byType = new HashMap<>();
        for (String name : requests) {
            RegistryPath at = root.child(name);
            Map<String, VersionedValue> values;
            try {
                values = registry.values(at);
            } catch (NoSuchKeyException gone) {
                continue;
            }
            VersionedValue request = values.get(REQUEST);
            String[] parts = request == null ? new String[0] : request.value().asSz().split(" ", 4);
            long asked = parts.length >= 3 ? parseLong(parts[1]) : -1;
            if (asked < 0 || wallMillis.getAsLong() - asked > FORGET.toMillis()) {
                forget(registry, at); // unreadable, or its asker gave up or died long ago
                continue;
            }
            if (values.containsKey(ANSWER) || values.containsKey(FAILED)) {
                continue; // answered; the asker removes it
            }
            try {
                byte[] payload;
                if (parts[0].equals(RANGES_ASKED) && parts.length == 3) {
                    Map<String, byte[]> all = byType.computeIfAbsent(parts[2], t -> hashes(SiteResync.states(site, site.states(), t)));
                    payload = rangesPayload(ranges(all));
                } else if (parts[0].equals(ENTRIES_ASKED) && parts.length == 4) {
                    Set<Integer> ranges = Arrays.stream(parts[2].split(",")).filter(s -> !s.isEmpty()).map(Integer::valueOf)
                            .collect(Collectors.toSet());
                    Map<String, byte[]> all = byType.computeIfAbsent(parts[3], t -> hashes(SiteResync.states(site, site.states(), t)));
                    payload = entriesPayload(within(all, ranges));
                } else {
                    throw new IllegalArgumentException("the request '" + request.value().asSz() + "' is not one this version answers");
                }
                reply(registry, at, request.revision(), payload);
                answered++;
            } catch (ConditionFailedException withdrawn) {
                // the asker gave up meanwhile
            } catch (RuntimeException e) {
                LOG.warn("site {}: a range-hash request is not answered: {}", site.name(), e.toString());
                try {
                    registry.commit(WriteBatch.builder().requireRevision(at, REQUEST, request.revision())
                            .setValue(at, FAILED, RegistryValue.sz(String.valueOf(e.getMessage()))).build());
                } catch (RuntimeException ignored) {
                    // the asker waits its time and reads the site itself
                }
            }
        }
        return answered;
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static byte[] rangesPayload(Ranges r) {
        ByteBuffer out = ByteBuffer.allocate(8 + r.digests().size() * (8 + HASH)).putInt(r.entities()).putInt(r.digests().size());
        r.digests().forEach((range, d) -> out.putInt(range).putInt(r.counts().get(range)).put(d));
        return out.array();
    }

    private static byte[] entriesPayload(Map<String, byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(4).putInt(entries.size()).array());
        entries.forEach((id, h) -> {
            byte[] name = id.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ByteBuffer.allocate(4).putInt(name.length).array());
            out.writeBytes(name);
            out.writeBytes(h);
        });
        return out.toByteArray();
    }

    /** Writes {@code payload} as the answer at {@code at}, in chunks that fit a value, each only while the request is there. */
    private static void reply(ClusterRegistry registry, RegistryPath at, long requestRevision, byte[] payload) {
        // room for the value's name and its wire form's framing
        int chunk = Math.max(1024, registry.limits().maxValueSize() - 256);
        int chunks = 0;
        for (int from = 0; from < payload.length || chunks == 0; from += chunk) {
            byte[] part = Arrays.copyOfRange(payload, from, Math.min(payload.length, from + chunk));
            registry.commit(WriteBatch.builder().requireRevision(at, REQUEST, requestRevision)
                    .setValue(at, ANSWER + "." + chunks, RegistryValue.binary(part)).build());
            chunks++;
        }
        registry.commit(WriteBatch.builder().requireRevision(at, REQUEST, requestRevision)
                .setValue(at, ANSWER, RegistryValue.qword(chunks)).build());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
