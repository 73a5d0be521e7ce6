package dev.reliablestore.cluster.geo;

import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.cluster.ConflictRecord;
import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.SiteLinkStatus;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The provider's seam to the shipping of a multi-site store (docs/geo-replication.md): starts the
 * shipper that carries one site's writes to one other site, with the translator that re-seals them
 * there and merges them into its entities, and reports each conflict settled there as a
 * {@link StoreEvent.ConflictResolved}. Not an API for applications.
 */
public final class SiteReplication {

    /** The value of a site's shipper lease, under {@link #leaseKey}: "{@code <until ms> <holder>}". */
    public static final String LEASE_VALUE = "lease";

    /**
     * How long a resync waits for a site's shipper-lease holder to compute range hashes before it
     * reads the site itself: the holder looks for requests every second, and hashes a type at the
     * speed it reads its own registry.
     */
    static final Duration HASHES_WAIT = Duration.ofSeconds(30);

    private SiteReplication() {
    }

    /**
     * Computes the range hashes that resyncs asked {@code site} for (the site's shipper-lease holder
     * calls it every second); returns how many requests it answered.
     */
    public static int answerHashRequests(Site site) {
        return SiteDigests.answer(site, System::currentTimeMillis);
    }

    /** Where resyncs ask a site for its range hashes: beside the ledger, so bookkeeping, never shipped. */
    public static RegistryPath hashRequestsKey(StorageLayout layout) {
        return SiteDigests.key(layout);
    }

    /**
     * {@code name} if it can name a site: 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'.
     *
     * @throws IllegalArgumentException saying what a site name may be
     */
    public static String checkSiteName(String name) {
        return ShipmentLedger.requireSiteName(name);
    }

    /** Where every site keeps, per origin site, the last batch it applied: below the store's root, so it is never shipped on. */
    public static RegistryPath ledgerKey(StorageLayout layout) {
        return layout.root().child("Sites").child("Applied");
    }

    /**
     * Where a site records the settings that every site of a store must share, as its shipper-lease holder
     * runs with them (the holder does the site's shipping, tombstone collection and merges): beside the ledger,
     * so it is bookkeeping and never shipped.
     */
    public static RegistryPath settingsKey(StorageLayout layout) {
        return ledgerKey(layout).parent().child("Settings");
    }

    static final String SETTINGS_VALUE = "current";

    /** The settings of {@code pace} that every site must share, as recorded and compared (and shown in a fault). */
    static String sharedSettings(Pace pace) {
        return sharedSettings(pace.conflictWindow(), pace.maxClockSkew(), pace.conflicts());
    }

    /** The settings every site must share, as a site records them and as messages show them. */
    public static String sharedSettings(Duration conflictWindow, Duration maxClockSkew, CrossSiteConflicts conflicts) {
        return "conflictResolutionWindow=" + conflictWindow + ", maxClockSkew=" + maxClockSkew + ", crossSiteConflicts=" + conflicts.optionName();
    }

    /** Separates the settings from the lease owner that recorded them. */
    private static final String RECORDED_BY = "; recorded by the shipper-lease holder ";

    /**
     * The command that records {@code pace}'s shared settings at a site of {@code layout}: written by a factory in
     * the batch that takes its site's shipper lease as {@code owner}, so the record says what the site's holder runs
     * with. It names the owner: a record whose owner no longer holds the lease (a factory of an older build, which
     * records nothing, took it over) is not compared.
     */
    public static BatchCommand recordSettings(StorageLayout layout, Pace pace, String owner) {
        return new BatchCommand.SetValue(settingsKey(layout), SETTINGS_VALUE, RegistryValue.sz(sharedSettings(pace) + RECORDED_BY + owner));
    }

    /**
     * The settings {@code site}'s shipper-lease holder recorded: the holder named in the lease (live or lapsed) if it
     * recorded them, else — no lease — its last holder's. Empty when another holder, one that records nothing (an
     * older build), holds it.
     */
    private static Optional<String> recordedByHolder(Site site) {
        // one round trip (the site may be far), and the record and the lease as of one point
        dev.reliablestore.registry.ReadBatchResult read = site.registry().read(dev.reliablestore.registry.ReadBatch.of(
                new dev.reliablestore.registry.ReadBatch.ValueRead(settingsKey(site.layout()), SETTINGS_VALUE),
                new dev.reliablestore.registry.ReadBatch.ValueRead(leaseKey(site.layout()), LEASE_VALUE)));
        Optional<VersionedValue> settings = read.value(0);
        if (settings.isEmpty()) {
            return Optional.empty();
        }
        String recorded = settings.get().value().asSz();
        int by = recorded.lastIndexOf(RECORDED_BY);
        if (by < 0) {
            return Optional.empty();
        }
        // no lease: its last holder let go (a factory that closes deletes it), and what it recorded is what the site ran with
        Optional<VersionedValue> lease = read.value(1);
        String[] holder = lease.map(l -> l.value().asSz().split(" ", 2)).orElse(null);
        if (holder != null && (holder.length < 2 || !recorded.substring(by + RECORDED_BY.length()).equals(holder[1]))) {
            return Optional.empty();
        }
        return Optional.of(recorded.substring(0, by));
    }

    /**
     * The settings {@code site}'s shipper-lease holder recorded, if they differ from these: a tool that judges
     * tombstones and late writes as the sites do (a resync) must run with the sites' own settings.
     */
    public static Optional<String> recordedOtherwise(Site site, Duration conflictWindow, Duration maxClockSkew, CrossSiteConflicts conflicts) {
        String mine = sharedSettings(conflictWindow, maxClockSkew, conflicts);
        return recordedByHolder(site).filter(r -> !r.equals(mine));
    }

    /**
     * Why {@code from}'s shipper, running with {@code pace}, must not ship to {@code to}: the settings {@code to}'s
     * shipper-lease holder recorded differ from its own. Empty while they agree, or while {@code to}'s holder has
     * recorded none (no factory has held its lease yet, or the holder is of a build that does not record them).
     */
    static SettingsCheck settingsDisagreement(Site from, Site to, Pace pace) {
        String mine = sharedSettings(pace);
        Optional<String> recorded = recordedByHolder(to);
        if (recorded.isPresent() && !recorded.get().equals(mine)) {
            return new SettingsCheck(Optional.of("this site (" + from.name() + ") ships with " + mine + ", but site " + to.name()
                    + " runs with " + recorded.get() + "; every factory of every site of a store must set the same (a site that"
                    + " collected its tombstones by a shorter window would apply a late update alone and the sites would diverge),"
                    + " so nothing is shipped to " + to.name() + " until they agree: nothing is lost, the batches wait in this"
                    + " site's history"), false);
        }
        return new SettingsCheck(Optional.empty(), recorded.isPresent());
    }

    /**
     * What {@link #settingsDisagreement} found: why not to ship, if anything; {@code settled} when the target had
     * recorded the settings it agreed with, so that a shipper need not ask again for a while (a target that
     * recorded nothing yet is asked again before every shipment).
     */
    record SettingsCheck(Optional<String> disagreement, boolean settled) {
        static final SettingsCheck UNCHECKED = new SettingsCheck(Optional.empty(), true);
    }

    /**
     * What a resync did.
     *
     * @param checkpoint the target's checkpoint for the source now (at least): the source's sequence when the resync began
     * @param compared   the source's entities (values and tombstones) compared
     * @param written    the target's entities it changed (the stale ones it removed not counted)
     * @param stale      the target's entities found stale: the source holds nothing of them and they were last
     *                   written longer ago than the conflict-resolution window (0 when tombstones are kept for good)
     * @param removed    of those, the ones it removed; 0 unless asked to
     * @param differing  the id ranges (of {@value SiteDigests#RANGES} per type) whose range hashes differed
     * @param fetched    the source's entities read whole because their hashes differed from the target's
     * @param hashedAt   the sites whose shipper-lease holders computed their range hashes; the resync read
     *                   the others itself
     */
    public record Resynced(long checkpoint, int compared, int written, int stale, int removed, int differing, int fetched,
                           java.util.Set<String> hashedAt) {
        public Resynced {
            hashedAt = java.util.Set.copyOf(hashedAt);
        }
    }

    /**
     * Repairs {@code to} from {@code from}: merges every entity {@code from} holds into {@code to},
     * as a shipped write would be merged (the later stamp wins, so what {@code to} holds that is
     * later stays), then moves {@code to}'s checkpoint for {@code from} to where {@code from}'s
     * history stood when the repair began, so {@code from}'s shipper goes on from there. Safe while
     * both sites are written to and while shippers run. Entities {@code to} holds that {@code from}
     * holds nothing of are left as they are. A conflict settled at {@code to} is kept as
     * {@code conflicts} says, as a shipped batch would keep it: a conflict record, or a merge owed
     * that {@code to}'s shipper-lease holder makes (nothing is reported as an event: no store of
     * this process is told).
     *
     * <p>The sites are compared by range hashes ({@link SiteDigests}): only the entities whose
     * stamps differ are read whole from {@code from}. A site whose shipper lease is held has its
     * holder compute its hashes where the data is; a site without one (or whose holder does not
     * answer within {@link #HASHES_WAIT}) is read by this call.
     *
     * <p>Entities {@code to} holds a value of that {@code from} holds nothing of, last written longer
     * ago than {@code staleAfter} (at least the store's conflict-resolution window) plus
     * {@code maxClockSkew}, are stale: {@code from} deleted them and collected the tombstones, or
     * never received them (a write later than the window is refused where it arrives). They are
     * counted, and with {@code removeStale} deleted at {@code to}, each only if it is still the state
     * found stale, by a delete of {@code to}'s stamped just after the stale write (so any write of
     * the entity made since, anywhere, still wins over it), in batches {@code to}'s shipper does not
     * ship on. Values written before sites were configured are never stale.
     *
     * @param staleAfter   the age that makes an entity stale; null: none is looked for
     * @param conflictWindow the store's conflict-resolution window (a tombstone older than it and the
     *                     skew is met by a later write as collected, as shipping meets it)
     * @param maxClockSkew the store's maximum clock skew
     * @throws IllegalArgumentException {@code removeStale} without {@code staleAfter}, or {@code staleAfter} under a minute
     */
    public static Resynced resync(Site from, Site to, CrossSiteConflicts conflicts, Duration staleAfter, Duration conflictWindow,
                                  Duration maxClockSkew, boolean removeStale) {
        if (from.name().equals(to.name())) {
            throw new IllegalArgumentException("site " + from.name() + " cannot be resynced from itself");
        }
        return new SiteResync(from, to, conflicts, System::currentTimeMillis, staleAfter, conflictWindow, maxClockSkew, removeStale)
                .hashedBy(SiteDigests.of(from, HASHES_WAIT), SiteDigests.of(to, HASHES_WAIT)).run();
    }

    /** Where a site keeps its conflict records, one subkey per type: beside the ledger, so they are never shipped. */
    public static RegistryPath conflictsKey(StorageLayout layout) {
        return ledgerKey(layout).parent().child("Conflicts");
    }

    /**
     * The conflict records {@code site} holds of {@code type}, oldest settled first.
     *
     * @throws dev.reliablestore.api.DataIntegrityException a record is damaged, forged or moved
     */
    public static List<ConflictRecord> conflictRecords(Site site, String type) {
        return ConflictRecords.read(site, type);
    }

    /**
     * The conflict records of {@code type} opened from {@code stored}, the values under
     * {@code conflictsKey(layout).child(type)} read at {@code site}; oldest settled first.
     *
     * @throws dev.reliablestore.api.DataIntegrityException a record is damaged, forged or moved
     */
    public static List<ConflictRecord> conflictRecords(Site site, String type, Map<String, VersionedValue> stored) {
        return ConflictRecords.opened(site, type, stored);
    }

    /** Where a site keeps the merges it owes ({@code crossSiteConflicts = Merge}), one subkey per type: never shipped. */
    public static RegistryPath mergesKey(StorageLayout layout) {
        return ledgerKey(layout).parent().child("Merges");
    }

    /**
     * Makes the merges {@code site} owes that {@code merger} can make, each as a write of
     * {@code site}, and reports each as a {@code ConflictResolved} with strategy {@code Merge};
     * returns how many it made. For the site's shipper-lease holder, with the site's own clock: a
     * shipping process of another site never makes them (its clock, running ahead, would stamp the
     * site's own writes past the site's skew guard).
     */
    public static int makePendingMerges(Site site, Pace pace, SiteMerger merger, Consumer<StoreEvent.ConflictResolved> conflicts) {
        return PendingMerges.run(site, new HybridClock(pace.wallMillis(), pace.maxClockSkew()), merger, c -> conflicts.accept(event(c)));
    }

    /** Removes {@code site}'s conflict records settled longer ago than the conflict-resolution window; returns how many. */
    public static int collectConflictRecords(Site site, Pace pace) {
        return ConflictRecords.collect(site, pace.conflictWindow(), pace.wallMillis().getAsLong());
    }

    /** Where a site keeps its shipper lease: beside the ledger, so it is bookkeeping and never shipped. */
    public static RegistryPath leaseKey(StorageLayout layout) {
        return ledgerKey(layout).parent().child("Shipper");
    }

    /**
     * The health faults about one pair, raised at its origin: each kind followed by the target's name
     * (SiteShipper and SiteLinks). Matched whole: site names may contain '-', so a suffix match would
     * count the faults about "eu-west" against "west".
     */
    private static final List<String> PAIR_FAULTS = List.of("site-behind-", "site-resync-", "site-stopped-", "site-clock-skew-",
            "site-unreachable-", "site-settings-");

    /**
     * How far {@code from}'s writes have reached {@code to}: the checkpoint {@code to} keeps for
     * {@code from}, how many of {@code from}'s batches wait and since when, the faults and the
     * lease. To know where {@code from}'s history ends it writes one bookkeeping value there
     * ({@code <root>/Sites/Probe}, never shipped) and reads the history from the checkpoint up to it.
     *
     * @param stampOf the stamp in a stored envelope's header (null if it has none); it is read for
     *                the time of the oldest batch waiting, not authenticated
     * @param timeout how long the history may take to read
     */
    public static SiteLinkStatus linkStatus(StorageLayout layout, String from, ClusterRegistry fromRegistry, String to, ClusterRegistry toRegistry,
                                        Function<byte[], byte[]> stampOf, Duration timeout) {
        RegistryPath ledger = ledgerKey(layout);
        long applied = toRegistry.getValue(ledger, from).map(v -> v.value().asQword()).orElse(0L);
        List<HealthFault> faults = fromRegistry.healthFaults().stream()
                .filter(f -> PAIR_FAULTS.stream().anyMatch(kind -> f.id().equals(kind + to))).toList();
        Optional<String> shipper = fromRegistry.getValue(leaseKey(layout), LEASE_VALUE).map(v -> {
            String[] lease = v.value().asSz().split(" ", 2);
            return (lease.length == 2 ? lease[1] : "?") + " until " + Instant.ofEpochMilli(Long.parseLong(lease[0]));
        });
        long head = fromRegistry.currentSequence();
        long probe = probe(fromRegistry, layout, "status");
        AtomicLong waiting = new AtomicLong();
        AtomicReference<Instant> oldest = new AtomicReference<>();
        AtomicReference<String> gap = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        ChangeListener counter = new ChangeListener() {
            @Override
            public void onBatch(ChangeBatch batch) {
                if (done.getCount() == 0) {
                    return;
                }
                if (batch.sequence() >= probe) {
                    done.countDown();
                    return;
                }
                if (SiteShipper.shipped(batch, layout.root(), ledger) && writesEntities(layout, batch)) {
                    waiting.incrementAndGet();
                    if (oldest.get() == null) {
                        oldest.set(stampTime(layout, batch, stampOf)); // null for a batch that writes no entity
                    }
                    if (waiting.get() >= SiteLinkStatus.COUNT_LIMIT) {
                        done.countDown();
                    }
                }
            }

            @Override
            public void onResync(String reason) {
                gap.set("the history could not be read to its end (" + reason + ")");
                done.countDown();
            }
        };
        Optional<String> problem = Optional.empty();
        Watch watch = null;
        try {
            watch = fromRegistry.watch(layout.root(), applied, counter);
            if (!done.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                gap.compareAndSet(null, "the history was not read to its end within " + timeout);
            }
        } catch (FeedHistoryUnavailableException e) {
            gap.set(null);
            problem = Optional.of("site " + to + "'s checkpoint " + applied + " for " + from + " is older than " + from
                    + "'s retained history (" + e.getMessage() + "): resync " + to);
        } catch (RegistryArgumentException e) {
            problem = Optional.of("site " + to + "'s checkpoint " + applied + " for " + from + " lies beyond " + from
                    + "'s history (was " + from + " restored from an older copy?): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            gap.set("interrupted");
        } finally {
            if (watch != null) {
                watch.close();
            }
        }
        if (gap.get() != null) {
            problem = Optional.of(gap.get());
        }
        boolean counted = problem.isEmpty();
        return new SiteLinkStatus(from, to, applied, head, counted ? Optional.of(waiting.get()) : Optional.empty(),
                counted ? Optional.ofNullable(oldest.get()) : Optional.empty(), faults, shipper, problem);
    }

    /**
     * Writes the bookkeeping value {@code <root>/Sites/Probe/<purpose>} (never shipped) at a site and
     * returns its sequence: where that site's history stood, for a tool that reads it up to there.
     */
    static long probe(ClusterRegistry registry, StorageLayout layout, String purpose) {
        return registry.commit(WriteBatch.builder().setValue(ledgerKey(layout).parent().child("Probe"), purpose,
                RegistryValue.qword(System.currentTimeMillis())).build()).sequence();
    }

    /** Whether {@code batch} writes an entity (a type's descriptor, dictionaries and the layout are not what a site waits for). */
    private static boolean writesEntities(StorageLayout layout, ChangeBatch batch) {
        for (Change c : batch.changes()) {
            String name = c instanceof Change.ValueSet s ? s.name() : c instanceof Change.ValueDeleted d ? d.name() : null;
            if (name != null && c.key().isBelow(layout.entities()) && !name.equals(StorageLayout.METADATA)) {
                return true;
            }
        }
        return false;
    }

    /** The time of the stamp of the first entity {@code batch} writes, or null. */
    private static Instant stampTime(StorageLayout layout, ChangeBatch batch, Function<byte[], byte[]> stampOf) {
        for (Change c : batch.changes()) {
            if (c instanceof Change.ValueSet s && s.value().value().type() == ValueType.BINARY
                    && ((layout.typeOfTypeKey(s.key()) != null && !s.name().equals(StorageLayout.METADATA))
                    || (s.key().name().equals(StorageLayout.TOMBSTONES) && s.key().isBelow(layout.entities())))) {
                byte[] stamp = stampOf.apply(s.value().value().asBinary());
                if (stamp != null) {
                    try {
                        return Instant.ofEpochMilli(HybridClock.physical(SiteState.stamped(null, stamp).hlc()));
                    } catch (IllegalArgumentException unreadable) {
                        return null;
                    }
                }
            }
        }
        return null;
    }

    /**
     * A site as a shipper sees it.
     *
     * @param registry  its registry
     * @param locks     its key of entity locks ({@code <root>/Transactions/Locks})
     * @param envelopes its envelope codec: values are opened and sealed with it
     */
    public record Site(String name, ClusterRegistry registry, StorageLayout layout, RegistryPath locks, SiteEnvelopes envelopes) {
        public Site {
            checkSiteName(name);
            Objects.requireNonNull(registry, "registry");
            Objects.requireNonNull(layout, "layout");
            Objects.requireNonNull(locks, "locks");
            Objects.requireNonNull(envelopes, "envelopes");
        }

        EntityStates states() {
            return new EntityStates(layout, locks, envelopes, name);
        }
    }

    /**
     * How a shipper runs.
     *
     * @param gather       {@code siteReplicationDelay}
     * @param retryPause   between attempts while the target refuses
     * @param behindAfter  how long the target may refuse, or the lag stay above it, before {@code site-behind-<target>} is raised
     * @param wallMillis     the local site's wall clock
     * @param maxClockSkew   how far ahead of it a target's stamp may be
     * @param conflictWindow how long the sites keep tombstones: a write that reaches a site later than
     *                       this after it was made, and meets nothing there, stops the shipper
     * @param conflicts      what becomes of the losing write of each conflict settled at a target ({@code crossSiteConflicts})
     */
    public record Pace(Duration gather, Duration retryPause, Duration behindAfter, LongSupplier wallMillis, Duration maxClockSkew,
                       Duration conflictWindow, CrossSiteConflicts conflicts) {
        public Pace {
            Objects.requireNonNull(gather, "gather");
            Objects.requireNonNull(retryPause, "retryPause");
            Objects.requireNonNull(behindAfter, "behindAfter");
            Objects.requireNonNull(wallMillis, "wallMillis");
            Objects.requireNonNull(maxClockSkew, "maxClockSkew");
            Objects.requireNonNull(conflictWindow, "conflictWindow");
            Objects.requireNonNull(conflicts, "conflicts");
        }
    }

    /** A running shipper from one site to another. */
    public interface Link extends AutoCloseable {
        /** The origin sequence the target has applied up to, as last known. */
        long checkpoint();

        /** Why it stopped (its health fault says so too), or empty while it runs. */
        Optional<Throwable> failure();

        /**
         * How long the oldest of the origin's batches this link holds to ship (received from the
         * feed, not yet applied at the target; the sites' own bookkeeping, never shipped, is not
         * counted) has waited; zero when it holds none.
         */
        Duration lag();

        /** Batches this link applied at the target (not counting ones the target had applied already). */
        long shipped();

        /**
         * Whether the link's last look found the sites' shared settings agreeing (or the target's holder recording
         * none): false before its first look and while they disagree ({@code site-settings-<target>}). The site's
         * lease holder collects tombstones only while every link it runs says so: by a window the target does not
         * share, what it collected could not be taken back.
         */
        boolean settingsAgree();

        /** Stops it; a shipment in progress is settled by the target's ledger when shipping resumes. */
        @Override
        void close();
    }

    /**
     * Starts shipping {@code from}'s writes to {@code to}, from {@code to}'s checkpoint for
     * {@code from}. Each cross-site conflict settled at {@code to} is handed to {@code conflicts}
     * once the batch that settled it is applied there; with {@code Merge} a merge is owed there
     * instead, which {@code to}'s shipper-lease holder makes and reports ({@link #makePendingMerges}).
     */
    public static Link ship(Site from, Site to, Pace pace, Consumer<StoreEvent.ConflictResolved> conflicts) {
        Objects.requireNonNull(conflicts, "conflicts");
        if (from.name().equals(to.name())) {
            throw new IllegalArgumentException("site " + from.name() + " cannot ship to itself");
        }
        if (!from.layout().root().equals(to.layout().root())) {
            throw new IllegalArgumentException("sites " + from.name() + " and " + to.name() + " keep the store under different roots: "
                    + from.layout().root() + ", " + to.layout().root());
        }
        SiteTranslator translator = new SiteTranslator(from.states(), to.registry(), to.states(),
                new HybridClock(pace.wallMillis(), pace.maxClockSkew()), pace.wallMillis(), pace.conflictWindow(), pace.conflicts(),
                c -> conflicts.accept(event(c)));
        SiteShipper shipper = new SiteShipper(from.registry(), from.layout().root(), from.name(), to.registry(), to.name(),
                ledgerKey(from.layout()), translator, pace.gather(), pace.retryPause(), pace.behindAfter(),
                () -> settingsDisagreement(from, to, pace));
        return new Link() {
            @Override
            public long checkpoint() {
                return shipper.checkpoint();
            }

            @Override
            public Optional<Throwable> failure() {
                return Optional.ofNullable(shipper.failure());
            }

            @Override
            public Duration lag() {
                return shipper.lag();
            }

            @Override
            public long shipped() {
                return shipper.shipped();
            }

            @Override
            public boolean settingsAgree() {
                return shipper.settingsAgree();
            }

            @Override
            public void close() {
                shipper.close();
            }

            @Override
            public String toString() {
                return shipper.toString();
            }
        };
    }

    /**
     * What removes {@code site}'s tombstones that the conflict-resolution window has passed over
     * (their stamps older than the window and the clock skew the sites allow): each call one pass,
     * returning how many it removed. One that cannot be read is kept, and logged by the first pass
     * that meets it: keep the collector for the site's passes.
     */
    public static IntSupplier tombstoneCollector(Site site, Pace pace) {
        return new TombstoneCollector(site, pace.conflictWindow(), pace.maxClockSkew(), pace.wallMillis())::collect;
    }

    static StoreEvent.ConflictResolved event(SiteTranslator.Conflict c) {
        return new StoreEvent.ConflictResolved(Instant.now(), c.type(), c.id(), c.strategy(), c.storedVersion(), c.resultVersion(),
                Optional.of(new StoreEvent.SiteConflict(c.targetSite(), write(c.winner()), write(c.loser()))));
    }

    private static StoreEvent.SiteWrite write(SiteState s) {
        return new StoreEvent.SiteWrite(s.origin(), Instant.ofEpochMilli(HybridClock.physical(s.hlc())), Optional.ofNullable(s.value()));
    }
}

