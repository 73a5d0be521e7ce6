package dev.reliablestore.examples.shop;

import java.util.List;

import org.springframework.data.repository.CrudRepository;

/** Orders in ReliableStore (entity type {@code Order}). */
public interface Orders extends CrudRepository<Order, String> {

    List<Order> findByCustomerId(String customerId); // reads every Order: fine for a small shop
}
