package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreUnavailableException;

import java.time.Duration;
import java.util.Objects;

/**
 * A write at a site of a multi-site store replaces a state that another site stamped further ahead
 * of this site's clock than {@code maxClockSkew} (docs/geo-replication.md, Clock skew): the write
 * would have to be stamped after it and pull this site's clock that far into the future for good,
 * so it is refused and nothing is written. It may succeed once the clocks agree again (check both
 * sites' NTP), so it is a {@link StoreUnavailableException}: a prepared transaction whose commit
 * meets it stays prepared and commits later.
 */
public final class SiteClockSkewException extends StoreUnavailableException {

    private static final long serialVersionUID = 1L;

    private final String site;
    private final Duration ahead;
    private final Duration maxSkew;

    /**
     * @param message what could not be written, and why
     * @param site    the site whose stamp is too far ahead
     * @param ahead   how far ahead of this site's clock it is
     * @param maxSkew the configured {@code maxClockSkew}
     */
    public SiteClockSkewException(String message, String site, Duration ahead, Duration maxSkew, Throwable cause) {
        super(message, cause);
        this.site = Objects.requireNonNull(site, "site");
        this.ahead = Objects.requireNonNull(ahead, "ahead");
        this.maxSkew = Objects.requireNonNull(maxSkew, "maxSkew");
    }

    /** The site whose stamp was refused. */
    public String site() {
        return site;
    }

    /** How far ahead of this site's clock that stamp was. */
    public Duration ahead() {
        return ahead;
    }

    /** The configured maximum ({@code maxClockSkew}). */
    public Duration maxSkew() {
        return maxSkew;
    }
}
