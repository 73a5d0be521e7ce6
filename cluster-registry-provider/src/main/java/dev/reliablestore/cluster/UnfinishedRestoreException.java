package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreUnavailableException;

/**
 * A factory was asked to open a root that a restore has marked as unfinished
 * ({@link RestoreMarker}, {@code Configuration/RestoreInProgress}): the root holds part of a backup,
 * because the restore was stopped part-way (a signal, {@code kill -9}, a crash, a power loss) or is
 * still running. Nothing was written. It is a {@link StoreUnavailableException}: nothing in the
 * configuration is wrong, and the store becomes available, unchanged configuration and all, once an
 * operator reruns {@code reliablestore restore --force} and it completes — so a deployment that retries
 * opening (a restarted pod, a retrying startup) comes up by itself then, while one that gives up
 * reports it. {@link #marker()} says who started the restore, when, and from which backup.
 */
public class UnfinishedRestoreException extends StoreUnavailableException {

    private static final long serialVersionUID = 1L;

    private final transient RestoreMarker marker;

    public UnfinishedRestoreException(String where, RestoreMarker marker) {
        super("cannot open " + where + ": a restore into this store (" + marker.describe() + ") did not finish, or is still"
                + " running: rerun `reliablestore restore --force --in " + marker.backup() + " …` against it (it removes the mark"
                + " once the restored contents verify); until then the store holds part of the backup (marked by Configuration/"
                + StorageLayout.RESTORE_IN_PROGRESS_VALUE + ")");
        this.marker = marker;
    }

    /** The mark the restore left: when it started, where, by whom, from which backup. */
    public RestoreMarker marker() {
        return marker;
    }
}
