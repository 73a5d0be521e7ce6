package dev.reliablestore.cluster.geo;

/**
 * A site's hybrid-logical-clock timestamp is further ahead of the local wall clock than the
 * configured maximum skew: the change carrying it is not applied (it is retried once the clocks
 * agree again) and the site pair is reported unhealthy.
 */
public final class ClockSkewException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String site;
    private final long aheadMillis;
    private final long maxSkewMillis;

    ClockSkewException(String site, String timestamp, long aheadMillis, long maxSkewMillis) {
        super("site " + site + " stamped a change " + timestamp + ", " + aheadMillis + " ms ahead of this site's clock; the maximum skew is "
                + maxSkewMillis + " ms: check the clocks (NTP) of both sites");
        this.site = site;
        this.aheadMillis = aheadMillis;
        this.maxSkewMillis = maxSkewMillis;
    }

    /** The site whose timestamp was refused. */
    public String site() {
        return site;
    }

    /** How far ahead of the local wall clock the timestamp was, in milliseconds. */
    public long aheadMillis() {
        return aheadMillis;
    }

    /** The configured maximum, in milliseconds. */
    public long maxSkewMillis() {
        return maxSkewMillis;
    }
}
