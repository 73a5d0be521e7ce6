package dev.reliablestore.examples.shop;

import org.springframework.data.repository.CrudRepository;

/** Customers in ReliableStore (entity type {@code Customer}). */
public interface Customers extends CrudRepository<Customer, String> {
}
