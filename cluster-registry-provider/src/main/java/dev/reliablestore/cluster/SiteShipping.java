package dev.reliablestore.cluster;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What a factory's shipping of its site's writes to another site is doing now, as the factory knows
 * it (no registry is asked): for metrics ({@code SiteMeterBinder}) and health pages. The full
 * picture of a link, with its backlog in the history, is {@link ClusterStoreAdmin#siteLinks}.
 * docs/geo-replication.md, Operations.
 *
 * @param site     the factory's site
 * @param target   the other site
 * @param running  whether this factory ships to {@code target} now: it holds its site's shipper
 *                 lease, {@code target} was reached, and the shipper has not stopped (while it has,
 *                 the health faults {@code site-unreachable-}, {@code site-stopped-} or
 *                 {@code site-resync-<target>} say why)
 * @param lag      while running: how long the oldest of the site's batches that the shipper holds
 *                 (read from the history, not yet applied at {@code target}) has waited, zero when it
 *                 holds none; empty while not running
 * @param shipped  batches this factory has applied at {@code target} since it opened
 */
public record SiteShipping(String site, String target, boolean running, Optional<Duration> lag, long shipped) {

    public SiteShipping {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(lag, "lag");
    }
}
