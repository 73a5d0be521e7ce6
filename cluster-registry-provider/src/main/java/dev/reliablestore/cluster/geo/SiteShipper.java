package dev.reliablestore.cluster.geo;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Ships the batches made at the local site to one target site, in commit order, each applied
 * there once ({@link ShipmentLedger}) and only once it is durable here
 * ({@link ClusterRegistry#awaitDurable()}). Its backlog is the local registry's retained history,
 * never memory: when the target is slow or away, the shipper retries the batch in hand, lets its
 * watch fall behind, and reads on from the target's checkpoint when it can again — nothing is
 * dropped while the history covers the checkpoint. A checkpoint older than the history stops the
 * shipper with {@link #failure()} (the repair is a resync of the target, docs/geo-replication.md).
 *
 * <p>The {@link Translator} turns a local batch into the target's commands ({@link SiteTranslator}
 * re-seals envelopes for the target and merges concurrent writes). Its conditions guard what it read
 * at the target: when one fails (the target changed meanwhile, or a prepared transaction there holds
 * an entity), the batch is translated again after the retry pause, as often as it takes — counted
 * like a refusal for the behind fault. A {@link ClockSkewException} is retried the same way and
 * raises {@code site-clock-skew-<target>} until a translation goes through. A factory configured
 * with sites starts one per other site ({@link SiteReplication#ship}).
 */
final class SiteShipper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SiteShipper.class);
    /** Batches the watch may hand over before the shipper catches up; beyond it reads the history again. */
    private static final int QUEUE = 256;

    /** Local batches, consecutive and in commit order, as the commands that apply them at the target. */
    interface Translator {
        List<BatchCommand> commands(List<ChangeBatch> batches);

        /**
         * {@code batches} are applied at the target: by the commands of the last {@link #commands}
         * call ({@code byLastCommands}), or found applied already (by an earlier attempt whose outcome
         * was unknown, or by another shipper of this origin).
         */
        default void applied(List<ChangeBatch> batches, boolean byLastCommands) {
        }

        /** The commands of the last {@link #commands} call were refused as a whole: nothing of them landed. */
        default void refused(List<ChangeBatch> batches) {
        }
    }

    /** The default of {@link #idleAdvance}: well inside the shortest feed retention a backend allows (10 s on ZooKeeper). */
    static final Duration IDLE_ADVANCE = Duration.ofSeconds(3);

    private final ClusterRegistry local;
    private final RegistryPath root;
    private final RegistryPath ledgerKey;
    private final Translator translator;
    private final Duration retryPause;
    private final Duration gather;
    private final ShipmentLedger ledger;
    private final ClusterRegistry target;
    private final String localSite;
    private final String name;
    private final BlockingQueue<Arrived> queue = new ArrayBlockingQueue<>(QUEUE);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicLong shipped = new AtomicLong();
    private final AtomicLong feedOpenings = new AtomicLong();
    private final Thread thread;
    private final Duration behindAfter;
    /** The local health faults this shipper raises: the target refuses batches; the target needs a resync. */
    private final String behindFault;
    private final String resyncFault;
    private final String stoppedFault;
    private final String skewFault;
    private boolean skewRaised;
    private volatile boolean reopen = true;
    private volatile Throwable failure;
    private volatile long checkpoint;
    /** Every local batch up to this sequence is durable (the last answer of awaitDurable). */
    private long durable;
    /**
     * How long a checkpoint may stay behind batches that are not shipped (lease renewals, batches
     * from other sites) before it is moved past them: a site that writes no entities for longer than
     * its feed's retention would otherwise leave the checkpoint behind its history, and the next
     * reopening of the feed (a reconnect, a restart) would stop the shipper for a resync.
     */
    volatile Duration idleAdvance = IDLE_ADVANCE;
    /** When the checkpoint was last written at the target or found moved (System.nanoTime). */
    private long checkpointMovedAt = System.nanoTime();
    /** When the batch in hand was first refused (System.nanoTime), 0 while batches go through. */
    private long refusedSince;
    private boolean behindRaised;
    /**
     * When the first batch to ship of the group in hand reached the shipper (System.nanoTime), 0 while
     * none is in hand. The site's own bookkeeping (lease renewals, every second) is not counted: it is
     * never shipped, and with a gathering delay of seconds it would always be in hand.
     */
    private volatile long inHandSince;

    /** How often a shipper that ships looks again whether the sites' shared settings agree (while they do not: every retry). */
    static final Duration SETTINGS_CHECK = Duration.ofSeconds(10);
    private final Supplier<SiteReplication.SettingsCheck> settingsDisagreement;
    private final String settingsFault;
    /** When the settings were last found not to disagree (System.nanoTime); 0: not yet, or they disagreed. */
    private long settingsCheckedAt;
    /** Whether the last look found the shared settings agreeing (false before the first): see {@link #settingsAgree()}. */
    private volatile boolean agreed;
    /** When the settings were last looked at while they disagreed (System.nanoTime). */
    private long settingsLookedAt;
    private boolean settingsRaised;
    /** The disagreement the fault describes: raised again when another takes its place. */
    private String settingsRaisedFor;

    /** A batch as the watch handed it over, with when (System.nanoTime), and whether it is to be shipped. */
    private record Arrived(ChangeBatch batch, long at, boolean ships) {
    }

    /** Put in the queue by {@link #close(Duration)}: an idle shipper waiting for a batch sees the close at once. */
    private static final Arrived CLOSING = new Arrived(null, 0, false);

    /**
     * Ships {@code root} of {@code local} (site {@code localSite}) to {@code target} (site
     * {@code targetSite}), keeping the checkpoint under {@code ledgerKey} there (it must lie below
     * {@code root}, so a batch that came from another site is recognised and not shipped on).
     * While the target has refused the batch in hand for longer than {@code behindAfter}, the local
     * registry carries the health fault {@code site-behind-<targetSite>}; a checkpoint older than
     * the local history raises {@code site-resync-<targetSite>}; any other failure that stops the shipper
     * (a value that fails authentication, say) raises {@code site-stopped-<targetSite>}. After taking a batch it gathers
     * more for up to {@code gather} ({@code siteReplicationDelay}; with zero, only what is already
     * waiting) and ships them together. Starts at once.
     */
    SiteShipper(ClusterRegistry local, RegistryPath root, String localSite, ClusterRegistry target, String targetSite,
                RegistryPath ledgerKey, Translator translator, Duration gather, Duration retryPause, Duration behindAfter) {
        this(local, root, localSite, target, targetSite, ledgerKey, translator, gather, retryPause, behindAfter,
                () -> SiteReplication.SettingsCheck.UNCHECKED);
    }

    /**
     * As above; before it ships, at most every {@link #SETTINGS_CHECK}, it asks {@code settingsDisagreement} whether
     * the sites' shared settings disagree: while they do, it ships nothing (the batches wait in this site's history)
     * and the local registry carries {@code site-settings-<targetSite>} with the reason.
     */
    SiteShipper(ClusterRegistry local, RegistryPath root, String localSite, ClusterRegistry target, String targetSite,
                RegistryPath ledgerKey, Translator translator, Duration gather, Duration retryPause, Duration behindAfter,
                Supplier<SiteReplication.SettingsCheck> settingsDisagreement) {
        this.settingsDisagreement = Objects.requireNonNull(settingsDisagreement, "settingsDisagreement");
        this.local = Objects.requireNonNull(local, "local");
        this.root = Objects.requireNonNull(root, "root");
        this.ledgerKey = Objects.requireNonNull(ledgerKey, "ledgerKey");
        if (!root.contains(ledgerKey)) {
            throw new IllegalArgumentException("the ledger key " + ledgerKey + " must lie below the shipped root " + root);
        }
        this.translator = Objects.requireNonNull(translator, "translator");
        this.retryPause = Objects.requireNonNull(retryPause, "retryPause");
        this.gather = Objects.requireNonNull(gather, "gather");
        this.target = target;
        this.localSite = localSite;
        this.behindAfter = Objects.requireNonNull(behindAfter, "behindAfter");
        this.ledger = new ShipmentLedger(target, ledgerKey, localSite);
        ShipmentLedger.requireSiteName(targetSite);
        this.behindFault = "site-behind-" + targetSite;
        this.resyncFault = "site-resync-" + targetSite;
        this.stoppedFault = "site-stopped-" + targetSite;
        this.skewFault = "site-clock-skew-" + targetSite;
        this.settingsFault = "site-settings-" + targetSite;
        this.name = "site-shipper " + localSite + " -> " + targetSite + " (" + target.uri() + ")";
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * The commands that repeat {@code batches}' changes (the watch delivers only those below the
     * shipped root), leaving out the ledger's own bookkeeping: the translation of a site whose
     * values can be copied as they are.
     */
    static List<BatchCommand> replay(List<ChangeBatch> batches, RegistryPath ledgerKey) {
        List<BatchCommand> out = new ArrayList<>();
        for (Change c : batches.stream().flatMap(b -> b.changes().stream()).toList()) {
            if (c.key().equals(ledgerKey)) {
                continue;
            }
            if (c instanceof Change.KeyCreated k) {
                out.add(new BatchCommand.CreateKey(k.key()));
            } else if (c instanceof Change.ValueSet s) {
                out.add(new BatchCommand.SetValue(s.key(), s.name(), s.value().value()));
            } else if (c instanceof Change.ValueDeleted d) {
                out.add(new BatchCommand.DeleteValue(d.key(), d.name()));
            } else if (c instanceof Change.KeyDeleted d) {
                out.add(new BatchCommand.DeleteKey(d.key()));
            }
        }
        return out;
    }

    /**
     * Whether every change of {@code batch} lies in the key that holds the ledger (the sites'
     * bookkeeping: the shipper lease, say): nothing to ship, and no reason to write at the target.
     */
    private boolean bookkeeping(ChangeBatch batch) {
        return bookkeeping(batch, root, ledgerKey);
    }

    static boolean bookkeeping(ChangeBatch batch, RegistryPath root, RegistryPath ledgerKey) {
        RegistryPath sites = ledgerKey.parent();
        return !sites.equals(root) && batch.changes().stream().allMatch(c -> sites.contains(c.key()));
    }

    /** Whether the shipper of this batch's site ships it: not a batch another site shipped here, not bookkeeping. */
    static boolean shipped(ChangeBatch batch, RegistryPath root, RegistryPath ledgerKey) {
        return ShipmentLedger.shippedFrom(batch, ledgerKey).isEmpty() && !bookkeeping(batch, root, ledgerKey);
    }

    /** The origin sequence the target has applied up to, as last known. */
    long checkpoint() {
        return checkpoint;
    }

    /** Batches this shipper applied at the target (not counting ones found already applied). */
    long shipped() {
        return shipped.get();
    }

    /** How often the shipper opened its feed from the target's checkpoint (1 + times it fell behind or was interrupted). */
    long feedOpenings() {
        return feedOpenings.get();
    }

    /** Why the shipper stopped, or null while it runs. */
    Throwable failure() {
        return failure;
    }

    private final ChangeListener listener = new ChangeListener() {
        @Override
        public void onBatch(ChangeBatch batch) {
            // waiting here holds back the watch's own delivery: a replay from the history simply
            // reads on more slowly; the live feed overflows into onResync (registry-contract.md)
            if (reopen) {
                return; // after an onResync the feed has a gap: the shipper reads on from its checkpoint
            }
            try {
                Arrived arrived = new Arrived(batch, System.nanoTime(), shipped(batch, root, ledgerKey));
                while (!queue.offer(arrived, 100, TimeUnit.MILLISECONDS)) {
                    if (reopen || closed.getCount() == 0) {
                        return; // the shipper reads on from the checkpoint, or stops
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reopen = true;
            }
        }

        @Override
        public void onResync(String reason) {
            LOG.info("{}: the feed was interrupted ({}); reading on from the target's checkpoint", name, reason);
            reopen = true;
        }
    };

    private void run() {
        Watch watch = null;
        try {
            while (closed.getCount() > 0) {
                if (reopen) {
                    if (watch != null) {
                        watch.close();
                        watch = null;
                    }
                    queue.clear();
                    reopen = false;
                    try {
                        checkpoint = ledger.checkpoint();
                        accepted();
                        if (feedOpenings.get() == 0) {
                            // after the accepted() above, whose lag of nothing in hand yet says nothing about the backlog
                            takeOverFaults();
                        }
                        watch = local.watch(root, checkpoint, listener);
                        if (feedOpenings.incrementAndGet() == 1) {
                            // a shipper that stopped before (this one's predecessor) left its fault: it ships again
                            clear(resyncFault);
                            clear(stoppedFault);
                            // and one it left about the settings goes now if they agree, not at the next write
                            idleSettingsLook();
                        }
                    } catch (RegistryUnavailableException e) {
                        LOG.debug("{}: cannot read on yet ({}); retrying in {}", name, e.getMessage(), retryPause);
                        refused("the checkpoint", e.getMessage());
                        reopen = true;
                        closed.await(retryPause.toNanos(), TimeUnit.NANOSECONDS);
                        continue;
                    }
                }
                Arrived a = queue.poll(100, TimeUnit.MILLISECONDS);
                if (a == null && !reopen) {
                    idleSettingsLook();
                }
                if (a != null && a != CLOSING && !reopen) {
                    inHandSince = a.ships() ? a.at() : 0;
                    ship(gather(a));
                    inHandSince = 0;
                }
            }
        } catch (FeedHistoryUnavailableException e) {
            // the fault first: the factory restarts a shipper once it sees the failure, and the new one clears this
            // fault when it opens; raised after that, it would stay up over a shipper that ships
            LOG.error("{}: stopped, the target's checkpoint {} is older than this site's retained history; resync the target", name, checkpoint, e);
            raise(resyncFault, name + ": stopped; the target's checkpoint is older than this site's retained history, resync it: " + e.getMessage());
            failure = e;
        } catch (ConflictWindowExceededException e) {
            LOG.error("{}: stopped at the batch after {}: {}", name, checkpoint, e.getMessage());
            raise(resyncFault, name + ": stopped; " + e.getMessage());
            failure = e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            if (closed.getCount() > 0) {
                LOG.error("{}: stopped", name, e);
                // a value that fails authentication, a batch that cannot be shipped: never skipped, never silent
                raise(stoppedFault, name + ": stopped at the batch after " + checkpoint + ": " + e);
                failure = e;
            }
        } finally {
            if (watch != null) {
                watch.close();
            }
        }
    }

    /** {@code first} and what follows it within {@code gather} (at least what is already waiting), in order. */
    private List<Arrived> gather(Arrived first) throws InterruptedException {
        List<Arrived> group = new ArrayList<>();
        group.add(first);
        long until = System.nanoTime() + gather.toNanos();
        while (group.size() < QUEUE && !reopen) {
            Arrived next = queue.poll();
            if (next == null) {
                long left = until - System.nanoTime();
                if (left <= 0 || (next = queue.poll(left, TimeUnit.NANOSECONDS)) == null) {
                    break;
                }
            }
            if (next == CLOSING) {
                break;
            }
            if (reopen) {
                // the feed said onResync: what follows may lie after a gap, and a group must be a run of
                // consecutive batches (the checkpoint moves to its last); it comes again from the checkpoint
                break;
            }
            group.add(next);
            if (next.ships() && inHandSince == 0) {
                inHandSince = next.at();
            }
        }
        return group;
    }

    /** The target's checkpoint went back (it was restored from an older copy): ship again from there. */
    private void readAgainFromTheTarget() {
        LOG.warn("{}: the target's checkpoint went back below {} (was it restored from an older copy?); shipping again from it", name, checkpoint);
        reopen = true;
    }

    /**
     * Moves the checkpoint to {@code last} with nothing to apply, once every {@link #idleAdvance}:
     * every batch up to it was shipped already or is not shipped. Durable here first, as a shipped
     * batch is: a crash that lost them could hand their sequences to new batches that do ship.
     * A refusal only waits for the next group.
     */
    private void advanceIdle(long last) {
        if (last <= checkpoint || System.nanoTime() - checkpointMovedAt < idleAdvance.toNanos()) {
            return;
        }
        try {
            if (last > durable) {
                durable = local.awaitDurable();
            }
            ShipmentLedger.Outcome outcome = ledger.apply(checkpoint + 1, last, List.of());
            if (outcome == ShipmentLedger.Outcome.CHECKPOINT_BEHIND) {
                readAgainFromTheTarget();
                return;
            }
            long now = outcome == ShipmentLedger.Outcome.APPLIED ? last : ledger.checkpointUnlessBehind();
            if (now < 0) {
                readAgainFromTheTarget();
                return;
            }
            checkpoint = now;
            checkpointMovedAt = System.nanoTime();
        } catch (RegistryUnavailableException e) {
            LOG.debug("{}: the checkpoint stays at {} for now ({})", name, checkpoint, e.getMessage());
        }
    }

    /**
     * Applies local batches at the target as one registry batch — split in halves while its
     * translation exceeds the target's batch limits — retrying while the target (or this site) is
     * unavailable.
     */
    private void ship(List<Arrived> group) throws InterruptedException {
        while (closed.getCount() > 0) {
            // applied already, came from another site, or the sites' own bookkeeping (told on arrival): never shipped
            List<Arrived> ships = group.stream().filter(a -> a.ships() && a.batch().sequence() > checkpoint).toList();
            if (ships.isEmpty()) {
                advanceIdle(group.get(group.size() - 1).batch().sequence());
                return;
            }
            List<ChangeBatch> own = ships.stream().map(Arrived::batch).toList();
            long first = own.get(0).sequence();
            long last = own.get(own.size() - 1).sequence();
            String what = own.size() == 1 ? "batch " + last : "batches " + first + ".." + last;
            try {
                Optional<String> disagreement = settingsDisagreement(what);
                if (disagreement.isPresent()) {
                    refused(what, disagreement.get());
                    if (closed.await(retryPause.toNanos(), TimeUnit.NANOSECONDS)) {
                        return;
                    }
                    continue;
                }
                if (last > durable) {
                    durable = local.awaitDurable();
                }
                List<BatchCommand> commands = translator.commands(own);
                if (own.size() > 1 && !fits(commands)) {
                    ship(ships.subList(0, ships.size() / 2));
                    ship(ships.subList(ships.size() / 2, ships.size()));
                    return;
                }
                ShipmentLedger.Outcome outcome = ledger.apply(first, last, commands);
                if (outcome == ShipmentLedger.Outcome.CHECKPOINT_BEHIND) {
                    translator.refused(own);
                    readAgainFromTheTarget();
                    return;
                }
                if (outcome == ShipmentLedger.Outcome.CHECKPOINT_MOVED) {
                    // another delivery applied part of the group: ship the rest, unless the target went back meanwhile
                    long moved = ledger.checkpointUnlessBehind();
                    if (moved < 0) {
                        translator.refused(own);
                        readAgainFromTheTarget();
                        return;
                    }
                    checkpoint = moved;
                    continue;
                }
                // ALREADY_APPLIED too: an earlier attempt whose outcome was unknown may have landed
                translator.applied(own, outcome == ShipmentLedger.Outcome.APPLIED);
                if (outcome == ShipmentLedger.Outcome.APPLIED) {
                    shipped.addAndGet(own.size());
                }
                checkpoint = last;
                checkpointMovedAt = System.nanoTime();
                inHandSince = 0;
                accepted();
                if (skewRaised && clear(skewFault)) {
                    skewRaised = false;
                }
                return;
            } catch (RegistryUnavailableException e) {
                LOG.debug("{}: {} not shipped yet ({}); retrying in {}", name, what, e.getMessage(), retryPause);
                refused(what, e.getMessage());
            } catch (ConditionFailedException e) {
                // what the translation read at the target changed before it committed: translate again
                translator.refused(own);
                LOG.debug("{}: {} met a changed target ({}); translating again in {}", name, what, e.getMessage(), retryPause);
                refused(what, "the target kept changing under it or holds a lock: " + e.getMessage());
            } catch (ClockSkewException e) {
                LOG.warn("{}: {} not shipped: {}", name, what, e.getMessage());
                if (!skewRaised) {
                    skewRaised = raise(skewFault, name + ": " + e.getMessage() + "; the batch waits in this site's history");
                }
                refused(what, e.getMessage());
            }
            if (closed.await(retryPause.toNanos(), TimeUnit.NANOSECONDS)) {
                return;
            }
        }
    }

    /**
     * Why nothing may be shipped now (the sites' shared settings disagree), read at most every
     * {@link #SETTINGS_CHECK} while the target's recorded settings agree, and before every shipment while it has
     * recorded none (one read per group: a site that starts after its peers records its settings moments after
     * theirs ship). While they disagree the fault says why — raised again if the reason changed or if it went (a
     * shipper of another store at this site, whose id it shares, cleared it); once they agree, the fault is
     * cleared. {@code what}: what waits, for the log.
     */
    private Optional<String> settingsDisagreement(String what) {
        if (settingsCheckedAt != 0 && System.nanoTime() - settingsCheckedAt < SETTINGS_CHECK.toNanos()) {
            return Optional.empty();
        }
        SiteReplication.SettingsCheck check = settingsDisagreement.get();
        Optional<String> disagreement = check.disagreement();
        if (disagreement.isEmpty()) {
            settingsCheckedAt = check.settled() ? System.nanoTime() : 0;
            if (settingsRaised && clear(settingsFault)) {
                settingsRaised = false;
                settingsRaisedFor = null;
                LOG.info("{}: the sites' shared settings agree; shipping", name);
            }
        } else {
            settingsCheckedAt = 0;
            if (!settingsRaised || !disagreement.get().equals(settingsRaisedFor) || !present(settingsFault)) {
                LOG.error("{}: {} not shipped: {}", name, what, disagreement.get());
                settingsRaised = raise(settingsFault, name + ": " + disagreement.get());
                settingsRaisedFor = disagreement.get();
            }
        }
        agreed = disagreement.isEmpty();
        settingsLookedAt = System.nanoTime();
        return disagreement;
    }

    /** Whether {@code commands} and the ledger's two fit one batch of the target. */
    private boolean fits(List<BatchCommand> commands) {
        RegistryLimits limits = target.limits();
        if (commands.size() + 2 > limits.maxBatchCommands()) {
            return false;
        }
        WriteBatch.Builder b = WriteBatch.builder();
        commands.forEach(b::add);
        b.requireRevision(ledgerKey, localSite, 1).setValue(ledgerKey, localSite, RegistryValue.qword(1));
        return b.build().encodedSize() <= limits.maxBatchBytes();
    }

    /** The target (or this site) refused {@code what}: after {@code behindAfter} of refusals, the behind fault. */
    private void refused(String what, String why) {
        long now = System.nanoTime();
        if (refusedSince == 0) {
            refusedSince = now;
        } else if ((!behindRaised || !present(behindFault)) && now - refusedSince > behindAfter.toNanos()) {
            // raised and gone: the fault id is per target site, and a shipper of another store at this site cleared it
            behindRaised = raise(behindFault, name + ": " + what + " not accepted for more than " + behindAfter
                    + " (" + why + "); nothing is lost, the batches wait in this site's history");
        }
    }

    /** Whether the local registry holds the fault (read at the pace of refusals, never per shipped batch). */
    private boolean present(String id) {
        try {
            return local.healthFaults().stream().anyMatch(f -> f.id().equals(id));
        } catch (RegistryException e) {
            return true; // cannot tell: do not raise again on every refusal
        }
    }

    /**
     * The target took what it was given: the behind fault goes unless the shipper is still slower
     * than the site's writes — the oldest batch waiting reached it more than {@code behindAfter} ago.
     */
    private void accepted() {
        refusedSince = 0;
        Duration lag = lag();
        if (lag.compareTo(behindAfter) > 0) {
            if (!behindRaised) {
                behindRaised = raise(behindFault, name + ": the target accepts batches, but the oldest one waiting reached the shipper "
                        + lag.toMillis() + " ms ago, more than " + behindAfter + "; nothing is lost, the batches wait in this site's history");
            }
        } else if (behindRaised && clear(behindFault)) {
            behindRaised = false;
        }
    }

    /**
     * How long the oldest batch to ship that the shipper holds (in hand or waiting) has been with it;
     * zero when it holds none. Batches still in the local history (replayed after a restart or an
     * overflow) count from when the replay handed them over, so after a restart the lag reads low at first.
     */
    /** Whether a batch to ship is in the shipper's hands (taken from the queue, not yet applied): tests. */
    boolean holdsABatch() {
        return inHandSince != 0;
    }

    Duration lag() {
        long since = inHandSince;
        if (since == 0) {
            for (Arrived waiting : queue) {
                if (waiting.ships()) {
                    since = waiting.at();
                    break;
                }
            }
        }
        return since == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - since);
    }

    /** Raises a local health fault; false if the local registry could not take it now (tried again later). */
    private boolean raise(String id, String description) {
        try {
            local.removeHealthFault(id);
            local.addHealthFault(new HealthFault(id, 1, 0, description, "ReliableStore geo", 0));
            return true;
        } catch (RegistryException e) {
            LOG.warn("{}: could not raise the health fault {}: {}", name, id, e.getMessage());
            return false;
        }
    }

    /**
     * A predecessor's behind, skew or settings fault is this shipper's to clear once the condition is over: only the
     * shipper that raised one cleared it, so replaced (a restart, the lease moved) it stayed up for good.
     * Cleared by the first batch this shipper applies within the threshold, not by the open's own
     * {@link #accepted}: with nothing in hand yet, its lag says nothing about the backlog.
     */
    private void takeOverFaults() {
        try {
            for (HealthFault f : local.healthFaults()) {
                behindRaised |= f.id().equals(behindFault);
                skewRaised |= f.id().equals(skewFault);
                settingsRaised |= f.id().equals(settingsFault);
            }
        } catch (RegistryException e) {
            LOG.debug("{}: could not read the health faults to take over: {}", name, e.getMessage());
        }
    }

    private boolean clear(String id) {
        try {
            local.removeHealthFault(id);
            return true;
        } catch (RegistryException e) {
            LOG.warn("{}: could not clear the health fault {}: {}", name, id, e.getMessage());
            return false;
        }
    }

    /**
     * How long {@link #close} lets a call in progress finish before it interrupts the shipper: a call
     * at a target that is down is retried until that registry's failover timeout. An interrupted
     * shipment's outcome may be unknown; the ledger settles it when shipping resumes.
     */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(2);

    /** Stops shipping; returns once the shipper's thread has ended (or, with a warning, after 30 s more). */
    @Override
    public void close() {
        close(CLOSE_GRACE);
    }

    /** {@link #close()} with another grace (tests: a stuck call is interrupted without waiting the full grace). */
    void close(Duration grace) {
        closed.countDown();
        queue.offer(CLOSING); // when the queue is full the thread is not waiting for it
        try {
            thread.join(grace.toMillis());
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(TimeUnit.SECONDS.toMillis(30));
                if (thread.isAlive()) {
                    LOG.warn("{}: its thread is still in a call at {} 30 s after it was interrupted; leaving it", name, target.uri());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether the last look found the sites' shared settings agreeing (or the target recording none); false before
     * the first look and while they disagree ({@code site-settings-<target>}).
     */
    boolean settingsAgree() {
        return agreed;
    }

    /**
     * Looks at the settings while no batch is in hand, so that the fault and {@link #settingsAgree()} follow the
     * target on a site that writes nothing: while they disagree every {@code retryPause}, else when the last look
     * is {@link #SETTINGS_CHECK} old. A failed look changes nothing; the next one tries again.
     */
    private void idleSettingsLook() {
        long since = System.nanoTime() - settingsLookedAt;
        if (settingsLookedAt != 0 && since < (agreed ? SETTINGS_CHECK : retryPause).toNanos()) {
            return;
        }
        try {
            settingsDisagreement("nothing in hand");
        } catch (RegistryException e) {
            settingsLookedAt = System.nanoTime();
            LOG.debug("{}: cannot look at the target's settings now: {}", name, e.getMessage());
        }
    }

    /** Whether the shipper's thread is still running (tests). */
    boolean running() {
        return thread.isAlive();
    }

    @Override
    public String toString() {
        return name + " at " + checkpoint;
    }
}
