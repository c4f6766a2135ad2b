//! Prints the media facts of each file named on the command line.

fn main() {
    for arg in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(arg);
        println!(
            "{}: {:#?}",
            path.display(),
            shoebox::media::read_facts(&path)
        );
    }
}
