godwit::main!();
