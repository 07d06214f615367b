//! Writes the seed corpus of the segment target into the directory given (default
//! `corpus/segment`): for each file of a small valid segment, one input per section
//! (mode 0) and the whole file with and without checksum refresh (modes 1 and 2).

use segment_fuzz::Fixture;

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "corpus/segment".to_owned());
    std::fs::create_dir_all(&out).expect("the corpus directory is created");
    let scratch = segment_fuzz::scratch_dir();
    let fixture = Fixture::build(&scratch);
    let mut written = 0;
    for (file, sections) in fixture.sections.iter().enumerate() {
        for (at, (_, bytes)) in sections.iter().enumerate() {
            let mut input = vec![0, file as u8, at as u8];
            input.extend_from_slice(bytes);
            std::fs::write(format!("{out}/section-{file}-{at}"), input).expect("a seed is written");
            written += 1;
        }
        for mode in [1u8, 2] {
            let mut input = vec![mode, file as u8, 0];
            input.extend_from_slice(&fixture.files[file]);
            std::fs::write(format!("{out}/file-{mode}-{file}"), input).expect("a seed is written");
            written += 1;
        }
    }
    let largest = fixture.files.iter().map(Vec::len).max().unwrap_or(0);
    println!("{written} seeds in {out}; the largest file is {largest} bytes");
    let _ = std::fs::remove_dir_all(&scratch);
}
