/**
 * Consistent snapshots of a storage root and the backup file format, shared by the provider's
 * scheduled backups ({@code backupEnabled}) and the {@code reliablestore backup}/{@code restore} commands.
 */
package dev.reliablestore.cluster.backup;
