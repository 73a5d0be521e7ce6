/**
 * The audit log of the cluster-registry provider ({@code enableAuditLogging}, {@code auditLogPath}):
 * an append-only, hash-chained record of every write, delete and transaction outcome, and the
 * reader and verifier the {@code reliablestore audit} commands use.
 */
package dev.reliablestore.cluster.audit;
