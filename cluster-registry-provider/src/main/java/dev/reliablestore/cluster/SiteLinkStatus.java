package dev.reliablestore.cluster;

import dev.reliablestore.registry.HealthFault;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How far one site's writes have reached another site (docs/geo-replication.md, Operations;
 * {@link ClusterStoreAdmin#siteLinks}).
 *
 * @param from           the site whose writes are shipped
 * @param to             the site they are shipped to
 * @param applied        the last of {@code from}'s sequences that {@code to} has applied (0: none)
 * @param head           {@code from}'s current sequence when the status was taken
 * @param waiting        how many of {@code from}'s batches that write entities wait to be shipped to
 *                       {@code to} (a type's descriptor, dictionaries and the layout are not counted;
 *                       counted up to {@link #COUNT_LIMIT}); empty when {@code from}'s
 *                       history no longer reaches back to {@code applied} (see {@code problem})
 * @param oldestWaiting  when the oldest entity write among them was made (its stamp, {@code from}'s
 *                       clock); empty when none of them writes an entity
 * @param faults         the health faults {@code from} carries about {@code to}
 *                       ({@code site-behind-}, {@code site-resync-}, {@code site-stopped-},
 *                       {@code site-clock-skew-}, {@code site-unreachable-<to>})
 * @param shipper        who holds {@code from}'s shipper lease and until when, empty when nobody does
 * @param problem        why shipping to {@code to} cannot go on by itself, if it cannot
 */
public record SiteLinkStatus(String from, String to, long applied, long head, Optional<Long> waiting, Optional<Instant> oldestWaiting,
                         List<HealthFault> faults, Optional<String> shipper, Optional<String> problem) {

    public SiteLinkStatus {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        faults = List.copyOf(faults);
    }

    /** {@code waiting} is counted up to this many. */
    public static final int COUNT_LIMIT = 100_000;

    /** Whether the link is up to date and carries no fault. */
    public boolean healthy() {
        return faults.isEmpty() && problem.isEmpty() && waiting.filter(n -> n == 0).isPresent();
    }
}
