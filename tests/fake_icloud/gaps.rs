//! Changes the fake's change feed never announces, as happens at Apple: the periodic full
//! listing must find them.

use super::World;

impl World {
    /// Moved to Recently Deleted without a feed entry (the zone's token does not move).
    pub fn delete_unannounced(&mut self, apple_id: &str, zone: &str, asset: &str) {
        let z = self.zone(apple_id, zone);
        z.photos.get_mut(asset).expect("no such asset").deleted = true;
    }

    /// Gone for good without a tombstone in the feed.
    pub fn expunge_unannounced(&mut self, apple_id: &str, zone: &str, asset: &str) {
        self.zone(apple_id, zone)
            .photos
            .remove(asset)
            .expect("no such asset");
    }
}
