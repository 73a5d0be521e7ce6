package dev.reliablestore.cluster.geo;

import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The provider's seam to the shipping of a multi-site store (docs/geo-replication.md): starts the
 * shipper that carries one site's writes to one other site, with the translator that re-seals them
 * there and merges them into its entities, and reports each conflict settled there as a
 * {@link StoreEvent.ConflictResolved}. Not an API for applications.
 */
public final class SiteReplication {

    /** The strategy the events name: the only cross-site policy built. */
    public static final String LAST_WRITE_WINS = "LastWriteWins";

    private SiteReplication() {
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
     */
    public record Pace(Duration gather, Duration retryPause, Duration behindAfter, LongSupplier wallMillis, Duration maxClockSkew,
                       Duration conflictWindow) {
        public Pace {
            Objects.requireNonNull(gather, "gather");
            Objects.requireNonNull(retryPause, "retryPause");
            Objects.requireNonNull(behindAfter, "behindAfter");
            Objects.requireNonNull(wallMillis, "wallMillis");
            Objects.requireNonNull(maxClockSkew, "maxClockSkew");
            Objects.requireNonNull(conflictWindow, "conflictWindow");
        }
    }

    /** A running shipper from one site to another. */
    public interface Link extends AutoCloseable {
        /** The origin sequence the target has applied up to, as last known. */
        long checkpoint();

        /** Why it stopped (its health fault says so too), or empty while it runs. */
        Optional<Throwable> failure();

        /** Stops it; a shipment in progress is settled by the target's ledger when shipping resumes. */
        @Override
        void close();
    }

    /**
     * Starts shipping {@code from}'s writes to {@code to}, from {@code to}'s checkpoint for
     * {@code from}. Each cross-site conflict settled at {@code to} is handed to {@code conflicts}
     * once the batch that settled it is applied there.
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
                new HybridClock(pace.wallMillis(), pace.maxClockSkew()), pace.wallMillis(), pace.conflictWindow(), c -> conflicts.accept(event(c)));
        SiteShipper shipper = new SiteShipper(from.registry(), from.layout().root(), from.name(), to.registry(), to.name(),
                ledgerKey(from.layout()), translator, pace.gather(), pace.retryPause(), pace.behindAfter());
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
     * Removes {@code site}'s tombstones that the conflict-resolution window has passed over (their
     * stamps older than the window and the clock skew the sites allow); returns how many.
     */
    public static int collectTombstones(Site site, Pace pace) {
        return new TombstoneCollector(site, pace.conflictWindow(), pace.maxClockSkew(), pace.wallMillis()).collect();
    }

    static StoreEvent.ConflictResolved event(SiteTranslator.Conflict c) {
        return new StoreEvent.ConflictResolved(Instant.now(), c.type(), c.id(), LAST_WRITE_WINS, c.storedVersion(), c.resultVersion(),
                Optional.of(new StoreEvent.SiteConflict(c.targetSite(), write(c.winner()), write(c.loser()))));
    }

    private static StoreEvent.SiteWrite write(SiteState s) {
        return new StoreEvent.SiteWrite(s.origin(), Instant.ofEpochMilli(HybridClock.physical(s.hlc())), Optional.ofNullable(s.value()));
    }
}
