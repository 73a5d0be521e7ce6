package dev.reliablestore.cluster;

/**
 * What happens to the write that loses a cross-site conflict ({@code crossSiteConflicts},
 * docs/geo-replication.md, Conflicts). The winner is the same under every policy — the write with
 * the later stamp — so the sites converge whichever they use; the policies differ in what is kept
 * of the loser. Kept apart from {@link ConflictResolution}, which decides what a local conditional
 * save does on a version mismatch: there, there is a caller to tell; across sites there is none.
 */
public enum CrossSiteConflicts {
    /** The loser is replaced; a {@code ConflictResolved} event carrying both writes is raised where it is settled. */
    LAST_WRITE_WINS("LastWriteWins"),
    /** As {@link #LAST_WRITE_WINS}, and the site that settles it also keeps a durable {@link ConflictRecord} with the losing value. */
    CONFLICT_RECORD("ConflictRecord"),
    /**
     * A conflict of two updates is merged by the type's {@link ConflictResolver} at each site that
     * settles it, and written there as a new write that includes both; the other sites receive it as
     * an ordinary overwrite, and merged writes that meet are merged again, so the resolver must be a
     * join (a union, a maximum). A conflict with a delete is settled as {@link #LAST_WRITE_WINS}.
     */
    MERGE("Merge");

    private final String optionName;

    CrossSiteConflicts(String optionName) {
        this.optionName = optionName;
    }

    /** How the option {@code crossSiteConflicts} names it: {@code LastWriteWins}, {@code ConflictRecord}, {@code Merge}. */
    public String optionName() {
        return optionName;
    }

    /**
     * The policy {@code name} names as the option does.
     *
     * @throws IllegalArgumentException naming the value and the three accepted
     */
    public static CrossSiteConflicts ofOptionName(String name) {
        for (CrossSiteConflicts c : values()) {
            if (c.optionName.equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("'" + name + "' is not a cross-site conflict policy: must be LastWriteWins, ConflictRecord or Merge");
    }
}
